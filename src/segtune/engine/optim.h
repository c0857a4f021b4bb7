// Which parameters train, and the optimizer that trains them (TF's optimizer.proto on libtorch).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pipeline.pb.h"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace segtune {

struct TrainableSummary {
  int64_t trainable_tensors = 0, frozen_tensors = 0;
  int64_t trainable_scalars = 0, frozen_scalars = 0;
  std::string ToString() const;  // "trainable parameters: 1,234 of 3,221 (12 of 60 tensors)"
};

// Sets requires_grad on every parameter of `model` (torchvision names):
//  frozen if freeze_backbone and the name starts with "backbone.", or it belongs to one of the first
//  freeze_backbone_stages children of `backbone` that hold parameters, or it matches a freeze_variables
//  regex; and, when update_trainable_variables is not empty, frozen unless it matches one of those.
//  Regexes match at the start of the name (TF's re.match). Throws UsageError for an invalid regex or
//  when nothing is left to train.
TrainableSummary ApplyTrainableSelection(torch::nn::Module& model, const segtune::config::TrainConfig& train);

// The optimizer over the trainable parameters: group 0 the head, group 1 the backbone (when it has
// trainable parameters). momentum_optimizer -> SGD (momentum, weight_decay, nesterov); adam_optimizer ->
// AdamW (weight_decay decoupled; 0 = Adam); rms_prop_optimizer -> RMSprop. Throws UsageError if no
// optimizer is configured.
std::unique_ptr<torch::optim::Optimizer> BuildOptimizer(torch::nn::Module& model,
                                                        const segtune::config::TrainConfig& train);

// The schedule of the configured optimizer.
const segtune::config::LearningRate& ConfiguredSchedule(const segtune::config::TrainConfig& train);

// Sets every group's rate: `rate` for the head group, rate * backbone_multiplier for the backbone group.
void SetLearningRates(torch::optim::Optimizer& optimizer, double rate, double backbone_multiplier);

}  // namespace segtune
