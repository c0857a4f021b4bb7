// Folding an inference-mode BatchNorm2d into the convolution before it:
//   y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta
//     = conv'(x) + b'   with  w' = w * s,  b' = (b - mean) * s + beta,  s = gamma / sqrt(var + eps).
#pragma once

#include <torch/types.h>

namespace torch::nn {
class Module;
class BatchNorm2dImpl;
}  // namespace torch::nn

namespace segtune {

struct ConvWeights {
  torch::Tensor weight;  // [out, in/groups, kh, kw]
  torch::Tensor bias;    // [out] or undefined (no bias).
};

// Returns the folded weights (always with a bias). Computed in float64, returned as float32.
// Requires bn.num_features == weight.size(0) and running statistics (track_running_stats).
ConvWeights FoldBatchNorm(const ConvWeights& conv, const torch::nn::BatchNorm2dImpl& bn);

// Folds every Conv2d immediately followed by a BatchNorm2d among the children of a Sequential (at
// any depth) in place: the conv gets the folded weights and a bias, the BatchNorm becomes an
// identity (weight 1, bias 0, mean 0, var 1 - eps). Returns the number of pairs folded. For
// inference only (the model must be in eval mode afterwards).
int FoldBatchNormInPlace(torch::nn::Module& model);

}  // namespace segtune
