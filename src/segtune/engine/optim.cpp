#include "segtune/engine/optim.h"

#include <torch/torch.h>

#include <regex>

#include "segtune/core/error.h"
#include "segtune/core/log.h"

namespace segtune {

std::string TrainableSummary::ToString() const {
  return "trainable parameters: " + WithCommas(trainable_scalars) + " of " +
         WithCommas(trainable_scalars + frozen_scalars) + " (" + std::to_string(trainable_tensors) + " of " +
         std::to_string(trainable_tensors + frozen_tensors) + " tensors)";
}

namespace {

std::vector<std::regex> Compile(const google::protobuf::RepeatedPtrField<std::string>& patterns, const char* field) {
  std::vector<std::regex> out;
  for (const auto& p : patterns) {
    try {
      out.emplace_back(p);
    } catch (const std::regex_error& e) {
      throw UsageError(std::string("train_config.") + field + ": invalid regex '" + p + "': " + e.what());
    }
  }
  return out;
}

bool MatchesAny(const std::string& name, const std::vector<std::regex>& patterns) {
  for (const auto& r : patterns) {
    if (std::regex_search(name, r, std::regex_constants::match_continuous)) return true;
  }
  return false;
}

// "backbone.<child>." prefixes of the first k backbone children that own parameters.
std::vector<std::string> FirstStagePrefixes(torch::nn::Module& model, int k) {
  std::vector<std::string> prefixes;
  for (const auto& child : model.named_children()) {
    if (child.key() != "backbone") continue;
    for (const auto& stage : child.value()->named_children()) {
      if (static_cast<int>(prefixes.size()) >= k) break;
      if (!stage.value()->parameters().empty()) prefixes.push_back("backbone." + stage.key() + ".");
    }
  }
  return prefixes;
}

}  // namespace

TrainableSummary ApplyTrainableSelection(torch::nn::Module& model, const segtune::config::TrainConfig& train) {
  const auto freeze = Compile(train.freeze_variables(), "freeze_variables");
  const auto update = Compile(train.update_trainable_variables(), "update_trainable_variables");
  const auto stages = FirstStagePrefixes(model, train.freeze_backbone_stages());
  TrainableSummary summary;
  for (auto& p : model.named_parameters(true)) {
    const std::string& name = p.key();
    bool trainable = true;
    if (train.freeze_backbone() && name.rfind("backbone.", 0) == 0) trainable = false;
    for (const auto& s : stages) trainable = trainable && name.rfind(s, 0) != 0;
    if (MatchesAny(name, freeze)) trainable = false;
    if (!update.empty() && !MatchesAny(name, update)) trainable = false;
    p.value().set_requires_grad(trainable);
    (trainable ? summary.trainable_tensors : summary.frozen_tensors) += 1;
    (trainable ? summary.trainable_scalars : summary.frozen_scalars) += p.value().numel();
  }
  if (summary.trainable_tensors == 0) {
    throw UsageError("train_config: freeze settings leave no parameter to train (check freeze_backbone, "
                     "freeze_variables and update_trainable_variables)");
  }
  return summary;
}

const segtune::config::LearningRate& ConfiguredSchedule(const segtune::config::TrainConfig& train) {
  const auto& o = train.optimizer();
  if (o.has_adam_optimizer()) return o.adam_optimizer().learning_rate();
  if (o.has_rms_prop_optimizer()) return o.rms_prop_optimizer().learning_rate();
  return o.momentum_optimizer().learning_rate();
}

std::unique_ptr<torch::optim::Optimizer> BuildOptimizer(torch::nn::Module& model,
                                                        const segtune::config::TrainConfig& train) {
  std::vector<torch::Tensor> head, backbone;
  for (auto& p : model.named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    (p.key().rfind("backbone.", 0) == 0 ? backbone : head).push_back(p.value());
  }
  const auto& o = train.optimizer();
  auto groups = [&](auto options) {
    std::vector<torch::optim::OptimizerParamGroup> g;
    g.emplace_back(head, std::make_unique<decltype(options)>(options));
    if (!backbone.empty()) g.emplace_back(backbone, std::make_unique<decltype(options)>(options));
    return g;
  };
  if (o.has_momentum_optimizer()) {
    const auto& m = o.momentum_optimizer();
    auto options = torch::optim::SGDOptions(0.01)
                       .momentum(m.momentum_optimizer_value())
                       .weight_decay(m.weight_decay())
                       .nesterov(m.nesterov());
    return std::make_unique<torch::optim::SGD>(groups(options), options);
  }
  if (o.has_adam_optimizer()) {
    const auto& a = o.adam_optimizer();
    auto options = torch::optim::AdamWOptions(0.001)
                       .betas({a.beta1(), a.beta2()})
                       .eps(a.epsilon())
                       .weight_decay(a.weight_decay());
    return std::make_unique<torch::optim::AdamW>(groups(options), options);
  }
  if (o.has_rms_prop_optimizer()) {
    const auto& r = o.rms_prop_optimizer();
    auto options = torch::optim::RMSpropOptions(0.01)
                       .alpha(r.decay())
                       .eps(r.epsilon())
                       .momentum(r.momentum_optimizer_value())
                       .weight_decay(r.weight_decay());
    return std::make_unique<torch::optim::RMSprop>(groups(options), options);
  }
  throw UsageError("train_config.optimizer: set momentum_optimizer, adam_optimizer or rms_prop_optimizer");
}

void SetLearningRates(torch::optim::Optimizer& optimizer, double rate, double backbone_multiplier) {
  auto& groups = optimizer.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(i == 0 ? rate : rate * backbone_multiplier);
}

}  // namespace segtune
