#include "segtune/runtime/onednn_activation.h"

namespace segtune {

void AppendActivation(dnnl::post_ops& ops, Activation activation) {
  switch (activation) {
    case Activation::kNone: break;
    case Activation::kReLU: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
    case Activation::kHardswish: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_hardswish, 0.f, 0.f); break;
    case Activation::kHardsigmoid:  // oneDNN 2.6 has no hardsigmoid: clip(x / 6 + 1/2, 0, 1).
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / 6.f, 0.5f);
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 1.f);
      break;
    case Activation::kSigmoid: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
  }
}

}  // namespace segtune
