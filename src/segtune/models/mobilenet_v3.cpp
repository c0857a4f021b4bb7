#include "segtune/models/mobilenet_v3.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace segtune {

InvertedResidualImpl::InvertedResidualImpl(const InvertedResidualConfig& c, const BatchNormSpec& norm)
    : config(c),
      use_res_connect(c.stride == 1 && c.input_channels == c.out_channels),
      is_cn(c.stride > 1),
      activation(c.use_hs ? Activation::kHardswish : Activation::kReLU) {
  if (c.stride < 1 || c.stride > 2) throw std::invalid_argument("InvertedResidual: illegal stride value");
  block = torch::nn::Sequential();
  if (c.expanded_channels != c.input_channels) {
    expand = Conv2dNormActivation(
        Conv2dNormActivationOptions{c.input_channels, c.expanded_channels, 1, 1, 1, 1, activation, norm});
    block->push_back(expand);
  }
  // Dilation replaces the stride (torchvision keeps the resolution of the dilated stage).
  const int64_t stride = c.dilation > 1 ? 1 : c.stride;
  depthwise = Conv2dNormActivation(Conv2dNormActivationOptions{c.expanded_channels, c.expanded_channels, c.kernel,
                                                                stride, c.dilation, c.expanded_channels, activation,
                                                                norm});
  block->push_back(depthwise);
  if (c.use_se) {
    se = SqueezeExcitation(c.expanded_channels, MakeDivisible(c.expanded_channels / 4, 8));
    block->push_back(se);
  }
  project = Conv2dNormActivation(
      Conv2dNormActivationOptions{c.expanded_channels, c.out_channels, 1, 1, 1, 1, Activation::kNone, norm});
  block->push_back(project);
  register_module("block", block);
}

torch::Tensor InvertedResidualImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = expand ? expand->forward(x) : x;
  y = depthwise->forward(y);
  if (se) y = se->forward(y);
  // The residual goes through project's ForwardAdd so that a kernel can fuse it into the convolution.
  return use_res_connect ? project->ForwardAdd(y, x) : project->forward(y);
}

MobileNetV3LargeBackboneImpl::MobileNetV3LargeBackboneImpl(bool is_dilated) : dilated(is_dilated) {
  const BatchNormSpec norm = MobileNetV3BatchNorm();
  const auto config = MobileNetV3LargeConfig(dilated);
  stem = register_module(
      "0", Conv2dNormActivation(Conv2dNormActivationOptions{3, config.front().input_channels, 3, 2, 1, 1,
                                                            Activation::kHardswish, norm}));
  for (size_t i = 0; i < config.size(); ++i) {
    blocks.push_back(register_module(std::to_string(i + 1), InvertedResidual(config[i], norm)));
  }
  const int64_t last_in = config.back().out_channels;
  last = register_module(std::to_string(config.size() + 1),
                         Conv2dNormActivation(Conv2dNormActivationOptions{last_in, 6 * last_in, 1, 1, 1, 1,
                                                                          Activation::kHardswish, norm}));
  InitializeLikeTorchvisionBackbone(*this);
}

FeatureMap MobileNetV3LargeBackboneImpl::forward(const torch::Tensor& input) {
  FeatureMap features;
  torch::Tensor x = stem->forward(input);
  Collect("0", x, &features);
  for (size_t i = 0; i < blocks.size(); ++i) {
    x = blocks[i]->forward(x);
    Collect(std::to_string(i + 1), x, &features);
  }
  x = last->forward(x);
  Collect(std::to_string(blocks.size() + 1), x, &features);
  return features;
}

std::vector<int> MobileNetV3LargeBackboneImpl::StageIndices() const {
  std::vector<int> indices{0};
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (blocks[i]->is_cn) indices.push_back(static_cast<int>(i + 1));
  }
  indices.push_back(static_cast<int>(blocks.size() + 1));
  return indices;
}

int64_t MobileNetV3LargeBackboneImpl::OutChannels(int index) const {
  if (index == 0) return stem->options.out_channels;
  if (index == static_cast<int>(blocks.size()) + 1) return last->options.out_channels;
  return blocks.at(index - 1)->config.out_channels;
}

}  // namespace segtune
