// The activation that follows a convolution, shared by the LibTorch models (models/layers.h) and the
// LibTorch-free runtime, which computes it as a oneDNN post-op.
#pragma once

namespace segtune {

// kNone = identity. Hardswish x * relu6(x + 3) / 6; hardsigmoid relu6(x + 3) / 6 (torch's definitions).
enum class Activation { kNone, kReLU, kHardswish, kHardsigmoid, kSigmoid };

// "none", "relu", "hardswish", "hardsigmoid", "sigmoid".
const char* ActivationName(Activation activation);

}  // namespace segtune
