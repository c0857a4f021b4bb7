// ResNet-50 / ResNet-101 as torchvision 0.14 builds them (models/resnet.py), as segmentation
// backbones: conv1, bn1, relu, maxpool, layer1..layer4 (avgpool and fc are cut off, as
// IntermediateLayerGetter does). Segmentation models use replace_stride_with_dilation
// {false, true, true}: layer3 and layer4 keep stride 8 and dilate by 2 and 4.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <vector>

#include "segtune/models/backbone.h"
#include "segtune/models/layers.h"

namespace segtune {

// torchvision Bottleneck (ResNet V1.5: the stride sits on conv2, the 3x3):
//   conv1 1x1 -> bn1 -> relu -> conv2 3x3 (stride, dilation, padding = dilation) -> bn2 -> relu
//   -> conv3 1x1 (planes * 4) -> bn3; += downsample(x) or x; relu.
// downsample (child "downsample": "0" = 1x1 conv with the stride, "1" = bn) exists when the stride
// is not 1 or the channel count changes. BatchNorm eps 1e-5, momentum 0.1.
// ConvSlots: conv1 and conv2 (+ bn, relu), conv3 (+ bn3, the residual, relu), downsample.0 (+ bn).
class BottleneckImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation, bool with_downsample);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<ConvSlot> ConvSlots() override;

  const int64_t inplanes;
  const int64_t planes;
  const int64_t stride;
  const int64_t dilation;
  torch::nn::Conv2d conv1{nullptr};
  FoldableBatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  FoldableBatchNorm2d bn2{nullptr};
  torch::nn::Conv2d conv3{nullptr};
  FoldableBatchNorm2d bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // Null when the identity is added as is.
  ConvKernelPtr conv1_kernel, conv2_kernel, conv3_kernel, downsample_kernel;

 private:
  torch::Tensor Identity(const torch::Tensor& x);
};
TORCH_MODULE(Bottleneck);

// A Bottleneck ResNet without avgpool/fc. `layers` = blocks per stage ({3,4,6,3} = ResNet-50,
// {3,4,23,3} = ResNet-101). Children: conv1 (7x7 stride 2), bn1, layer1..layer4 (Sequential of
// Bottleneck); relu and maxpool (3x3 stride 2 padding 1) have no parameters.
// ConvSlot: conv1 (+ bn1, relu); the blocks are hosts of their own.
class ResNetBackboneImpl : public BackboneImpl, public ConvKernelHost {
 public:
  ResNetBackboneImpl(std::array<int, 4> layers, std::array<bool, 3> replace_stride_with_dilation);
  FeatureMap forward(const torch::Tensor& x) override;
  std::vector<ConvSlot> ConvSlots() override;

  const std::array<int, 4> block_counts;
  const std::array<bool, 3> replace_stride_with_dilation;
  torch::nn::Conv2d conv1{nullptr};
  FoldableBatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  ConvKernelPtr conv1_kernel;

 private:
  torch::nn::Sequential MakeLayer(int64_t planes, int blocks, int64_t stride, bool dilate);
  int64_t inplanes_ = 64;
  int64_t dilation_ = 1;
};
TORCH_MODULE(ResNetBackbone);

// ResNet-50 / -101 with the segmentation models' dilation {false, true, true}.
ResNetBackbone ResNet50Backbone();
ResNetBackbone ResNet101Backbone();

}  // namespace segtune
