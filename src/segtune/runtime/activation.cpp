#include "segtune/runtime/activation.h"

namespace segtune {

const char* ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kNone: return "none";
    case Activation::kReLU: return "relu";
    case Activation::kHardswish: return "hardswish";
    case Activation::kHardsigmoid: return "hardsigmoid";
    case Activation::kSigmoid: return "sigmoid";
  }
  return "unknown";
}

}  // namespace segtune
