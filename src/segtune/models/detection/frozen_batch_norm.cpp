#include "segtune/models/detection/frozen_batch_norm.h"

#include <torch/nn/modules/batchnorm.h>

namespace segtune::detection {

int FreezeBatchNorm(torch::nn::Module& root, double eps) {
  int frozen = 0;
  for (const auto& module : root.modules(/*include_self=*/true)) {
    auto* bn = module->as<torch::nn::BatchNorm2d>();
    if (bn == nullptr) continue;
    bn->options.eps(eps);
    bn->eval();
    if (bn->weight.defined()) bn->weight.set_requires_grad(false);
    if (bn->bias.defined()) bn->bias.set_requires_grad(false);
    ++frozen;
  }
  return frozen;
}

int UseTrainableBatchNorm(torch::nn::Module& root) {
  int count = 0;
  for (const auto& module : root.modules(/*include_self=*/true)) {
    auto* bn = module->as<torch::nn::BatchNorm2d>();
    if (bn == nullptr) continue;
    bn->options.eps(kBatchNormEps);
    bn->options.momentum(kBatchNormMomentum);
    if (bn->weight.defined()) bn->weight.set_requires_grad(true);
    if (bn->bias.defined()) bn->bias.set_requires_grad(true);
    ++count;
  }
  return count;
}

void KeepBatchNormInEval(torch::nn::Module& root) {
  for (const auto& module : root.modules(/*include_self=*/true)) {
    if (module->as<torch::nn::BatchNorm2d>() != nullptr) module->eval();
  }
}

bool IsBatchNormCounter(const std::string& name) {
  static const std::string kSuffix = "num_batches_tracked";
  return name.size() >= kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

}  // namespace segtune::detection
