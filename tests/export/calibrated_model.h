// Registry models with realistic BatchNorm statistics for the export tests.
#pragma once

#include <torch/torch.h>

#include "segtune/models/semantic_model.h"

namespace segtune::testing {

// ImageNet normalization of RGB values in [0, 1], as the exported graphs do it.
inline torch::Tensor NormalizeImageNet(const torch::Tensor& image01) {
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  return (image01 - mean) / std;
}

// Sets every BatchNorm's running mean/var to the cumulative average (momentum None) of the model's
// own activations over a few train-mode batches of random images, as a trained model's would be,
// and leaves the model in eval mode. Activations then stay O(1) through ResNet-101's hundred layers
// and logits are moderate, so 1e-3 absolute is a meaningful bound for every model (with the
// default statistics, mean 0 / var 1, random-weight ResNet-101 logits reach the thousands). The
// statistics are non-trivial, so BatchNorm folding is exercised.
inline void CalibrateBatchNorm(SemanticModelImpl& model) {
  torch::NoGradGuard no_grad;
  for (const auto& module : model.modules()) {
    if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);
    }
  }
  model.train();
  for (int i = 0; i < 3; ++i) model.forward(NormalizeImageNet(torch::rand({2, 3, 64, 64})));
  model.eval();
}

}  // namespace segtune::testing
