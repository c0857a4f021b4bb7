#include "segtune/models/detection/backbone_fpn.h"

#include <torch/nn/modules/container/sequential.h>

#include <algorithm>
#include <array>

#include "segtune/core/error.h"
#include "segtune/models/detection/frozen_batch_norm.h"
#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/resnet.h"

namespace segtune::detection {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

void CheckTrainableLayers(int trainable_layers, int max_value, const char* backbone) {
  if (trainable_layers < 0 || trainable_layers > max_value) {
    throw UsageError(std::string(backbone) + ": trainable backbone layers must be in 0.." + std::to_string(max_value) +
                     ", got " + std::to_string(trainable_layers));
  }
}

// norm_layer: FrozenBatchNorm2d (eps 1e-5, never updated) or nn.BatchNorm2d().
void SetNormLayer(torch::nn::Module& body, bool frozen_batch_norm) {
  if (frozen_batch_norm) {
    FreezeBatchNorm(body);
  } else {
    UseTrainableBatchNorm(body);
  }
}

}  // namespace

BackboneWithFPNImpl::BackboneWithFPNImpl(std::shared_ptr<BackboneImpl> body_module, std::vector<std::string> returned,
                                         std::vector<int64_t> in_channels_list, int64_t out)
    : out_channels(out), body(std::move(body_module)) {
  ReturnLayers return_layers;
  for (size_t i = 0; i < returned.size(); ++i) {
    return_layers[returned[i]] = std::to_string(i);
    feature_names_.push_back(std::to_string(i));
  }
  body->set_return_layers(return_layers);
  register_module("body", body);
  fpn = register_module("fpn", FeaturePyramidNetwork(std::move(in_channels_list), out_channels));
}

FeatureMaps BackboneWithFPNImpl::forward(const torch::Tensor& x) {
  FeatureMap by_name = body->forward(x);
  FeatureMaps ordered;
  for (const auto& name : feature_names_) ordered.emplace_back(name, by_name.at(name));
  return fpn->forward(ordered);
}

BackboneWithFPN ResNet50FpnBackbone(int trainable_layers, bool frozen_batch_norm) {
  CheckTrainableLayers(trainable_layers, 5, "resnet50 FPN backbone");
  auto resnet = std::make_shared<ResNetBackboneImpl>(std::array<int, 4>{3, 4, 6, 3}, std::array<bool, 3>{false, false, false});
  SetNormLayer(*resnet, frozen_batch_norm);
  // torchvision's _resnet_fpn_extractor: only the last `trainable_layers` stages train.
  std::vector<std::string> to_train{"layer4", "layer3", "layer2", "layer1", "conv1"};
  to_train.resize(trainable_layers);
  if (trainable_layers == 5) to_train.push_back("bn1");
  for (auto& parameter : resnet->named_parameters()) {
    const bool train = std::any_of(to_train.begin(), to_train.end(),
                                   [&](const std::string& layer) { return StartsWith(parameter.key(), layer); });
    if (!train) parameter.value().set_requires_grad(false);
  }
  return BackboneWithFPN(resnet, std::vector<std::string>{"layer1", "layer2", "layer3", "layer4"},
                         std::vector<int64_t>{256, 512, 1024, 2048});
}

BackboneWithFPN MobileNetV3LargeFpnBackbone(int trainable_layers, bool frozen_batch_norm) {
  auto mobilenet = std::make_shared<MobileNetV3LargeBackboneImpl>(/*dilated=*/false);
  // An explicit norm_layer (FrozenBatchNorm2d or nn.BatchNorm2d) replaces MobileNetV3's
  // BatchNorm(eps=1e-3, momentum=0.01): eps 1e-5 either way.
  SetNormLayer(*mobilenet, frozen_batch_norm);
  const std::vector<int> stages = mobilenet->StageIndices();  // {0, 2, 4, 7, 13, 16}
  const int num_stages = static_cast<int>(stages.size());
  CheckTrainableLayers(trainable_layers, num_stages, "mobilenet_v3_large FPN backbone");
  const int children = stages.back() + 1;
  const int freeze_before = trainable_layers == 0 ? children : stages[num_stages - trainable_layers];
  for (auto& child : mobilenet->named_children()) {
    if (std::stoi(child.key()) >= freeze_before) continue;
    for (auto& parameter : child.value()->parameters()) parameter.set_requires_grad(false);
  }
  // returned_layers = [num_stages - 2, num_stages - 1]: the last two stage starts.
  const int c4 = stages[num_stages - 2], c5 = stages[num_stages - 1];
  return BackboneWithFPN(mobilenet, std::vector<std::string>{std::to_string(c4), std::to_string(c5)},
                         std::vector<int64_t>{mobilenet->OutChannels(c4), mobilenet->OutChannels(c5)});
}

}  // namespace segtune::detection
