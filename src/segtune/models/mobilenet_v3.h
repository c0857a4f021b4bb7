// MobileNetV3-Large as torchvision 0.14 builds it (models/mobilenetv3.py), as a segmentation
// backbone: the `features` list only (no avgpool/classifier), optionally with the dilated last stage
// of `mobilenet_v3_large(dilated=True)` used by torchvision's segmentation models.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "segtune/models/backbone.h"
#include "segtune/models/layers.h"
#include "segtune/runtime/mobilenet_v3_config.h"

namespace segtune {

// torchvision InvertedResidual. Child "block" is a Sequential of
//   [expand Conv2dNormActivation 1x1 (only if expanded != input)],
//   depthwise Conv2dNormActivation kxk (groups = expanded; stride 1 when dilation > 1),
//   [SqueezeExcitation (use_se), squeeze = MakeDivisible(expanded / 4, 8)],
//   project Conv2dNormActivation 1x1 without activation.
// forward: y = block(x); y += x if use_res_connect (stride 1 and input == out channels).
class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(const InvertedResidualConfig& config, const BatchNormSpec& norm);
  torch::Tensor forward(const torch::Tensor& x);

  const InvertedResidualConfig config;
  const bool use_res_connect;
  const bool is_cn;  // Starts a new stage (config stride > 1): torchvision's `_is_cn`.
  const Activation activation;
  torch::nn::Sequential block{nullptr};
  Conv2dNormActivation expand{nullptr};  // Null when expanded_channels == input_channels.
  Conv2dNormActivation depthwise{nullptr};
  SqueezeExcitation se{nullptr};  // Null when !config.use_se.
  Conv2dNormActivation project{nullptr};
};
TORCH_MODULE(InvertedResidual);

// MobileNetV3-Large `features` as a backbone. Children "0" (stem: 3x3 stride 2, 16 ch, hardswish),
// "1".."15" (InvertedResidual), "16" (1x1 to 960 ch, hardswish). BatchNorm eps 1e-3, momentum 0.01.
class MobileNetV3LargeBackboneImpl : public BackboneImpl {
 public:
  explicit MobileNetV3LargeBackboneImpl(bool dilated);
  FeatureMap forward(const torch::Tensor& x) override;

  // torchvision's stage_indices: [0] + indices of blocks with is_cn + [last] = {0,2,4,7,13,16}.
  std::vector<int> StageIndices() const;
  int64_t OutChannels(int index) const;  // Output channels of child `index`.

  const bool dilated;
  Conv2dNormActivation stem{nullptr};     // "0"
  std::vector<InvertedResidual> blocks;   // "1".."15"
  Conv2dNormActivation last{nullptr};     // "16"
};
TORCH_MODULE(MobileNetV3LargeBackbone);

}  // namespace segtune
