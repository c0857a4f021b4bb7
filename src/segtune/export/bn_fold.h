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

// Returns the folded weights (always with a bias). Computed in float64, returned in the dtype of conv.weight.
// Requires bn.num_features == weight.size(0) and running statistics (track_running_stats).
ConvWeights FoldBatchNorm(const ConvWeights& conv, const torch::nn::BatchNorm2dImpl& bn);

// Folds, at any depth, every Conv2d child immediately followed (in registration order) by a
// BatchNorm2d child of the same module, in place: the conv gets the folded weights and a bias. A
// FoldableBatchNorm2d (models/layers.h: every BatchNorm of segtune's models) is then skipped by
// forward(); a plain torch::nn::BatchNorm2d becomes an identity transform (weight 1, bias 0, mean 0,
// var 1 - eps) that still runs. Requires that each module registers a convolution directly before
// the BatchNorm that normalizes its output (torchvision's order; segtune's blocks and Sequentials
// follow it). Already folded pairs are left alone. Returns the number of pairs folded. For inference
// only: the model must stay in eval mode afterwards.
int FoldBatchNormInPlace(torch::nn::Module& model);

}  // namespace segtune
