#include "segtune/models/resnet.h"

#include <torch/torch.h>

#include "segtune/models/layers.h"

namespace segtune {
namespace {

torch::nn::Conv2d Conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return MakeConv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out, int64_t stride, int64_t dilation) {
  return MakeConv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(dilation).dilation(dilation).bias(false));
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in, int64_t planes_, int64_t stride_, int64_t dilation_,
                               bool with_downsample)
    : inplanes(in), planes(planes_), stride(stride_), dilation(dilation_) {
  const int64_t out = planes * kExpansion;
  conv1 = register_module("conv1", Conv1x1(inplanes, planes));
  bn1 = register_module("bn1", MakeBatchNorm(planes, {}));
  conv2 = register_module("conv2", Conv3x3(planes, planes, stride, dilation));
  bn2 = register_module("bn2", MakeBatchNorm(planes, {}));
  conv3 = register_module("conv3", Conv1x1(planes, out));
  bn3 = register_module("bn3", MakeBatchNorm(out, {}));
  if (with_downsample) {
    downsample = register_module("downsample",
                                 torch::nn::Sequential(Conv1x1(inplanes, out, stride), MakeBatchNorm(out, {})));
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = RunConvKernel(conv1_kernel, x);
  if (!y.defined()) y = bn1->forward(conv1->forward(x)).relu_();
  torch::Tensor z = RunConvKernel(conv2_kernel, y);
  if (!z.defined()) z = bn2->forward(conv2->forward(y)).relu_();
  const torch::Tensor identity = Identity(x);
  if (torch::Tensor out = RunConvKernel(conv3_kernel, z, identity); out.defined()) return out;
  z = bn3->forward(conv3->forward(z));
  z += identity;
  return torch::relu_(z);
}

torch::Tensor BottleneckImpl::Identity(const torch::Tensor& x) {
  if (!downsample) return x;
  if (torch::Tensor y = RunConvKernel(downsample_kernel, x); y.defined()) return y;
  return downsample->forward(x);
}

std::vector<ConvSlot> BottleneckImpl::ConvSlots() {
  std::vector<ConvSlot> slots{{"conv1", conv1.get(), bn1.get(), Activation::kReLU, false, &conv1_kernel},
                              {"conv2", conv2.get(), bn2.get(), Activation::kReLU, false, &conv2_kernel},
                              {"conv3", conv3.get(), bn3.get(), Activation::kReLU, true, &conv3_kernel}};
  if (downsample) {
    slots.push_back({"downsample.0", downsample->ptr(0)->as<torch::nn::Conv2d>(),
                     dynamic_cast<const FoldableBatchNorm2dImpl*>(downsample->ptr(1).get()), Activation::kNone, false,
                     &downsample_kernel});
  }
  return slots;
}

ResNetBackboneImpl::ResNetBackboneImpl(std::array<int, 4> layers, std::array<bool, 3> dilate)
    : block_counts(layers), replace_stride_with_dilation(dilate) {
  conv1 = register_module("conv1",
                          MakeConv2d(torch::nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", MakeBatchNorm(64, {}));
  layer1 = register_module("layer1", MakeLayer(64, layers[0], 1, false));
  layer2 = register_module("layer2", MakeLayer(128, layers[1], 2, dilate[0]));
  layer3 = register_module("layer3", MakeLayer(256, layers[2], 2, dilate[1]));
  layer4 = register_module("layer4", MakeLayer(512, layers[3], 2, dilate[2]));
  InitializeLikeTorchvisionBackbone(*this);
}

// torchvision ResNet._make_layer: with dilate, the stage keeps its resolution and every later block
// dilates by the stride instead; the first block uses the previous dilation.
torch::nn::Sequential ResNetBackboneImpl::MakeLayer(int64_t planes, int blocks, int64_t stride, bool dilate) {
  const int64_t previous_dilation = dilation_;
  if (dilate) {
    dilation_ *= stride;
    stride = 1;
  }
  const bool with_downsample = stride != 1 || inplanes_ != planes * BottleneckImpl::kExpansion;
  torch::nn::Sequential layer;
  layer->push_back(Bottleneck(inplanes_, planes, stride, previous_dilation, with_downsample));
  inplanes_ = planes * BottleneckImpl::kExpansion;
  for (int i = 1; i < blocks; ++i) layer->push_back(Bottleneck(inplanes_, planes, 1, dilation_, false));
  return layer;
}

FeatureMap ResNetBackboneImpl::forward(const torch::Tensor& input) {
  FeatureMap features;
  torch::Tensor x = RunConvKernel(conv1_kernel, input);
  if (!x.defined()) x = bn1->forward(conv1->forward(input)).relu_();
  x = torch::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  const std::pair<const char*, torch::nn::Sequential*> stages[] = {
      {"layer1", &layer1}, {"layer2", &layer2}, {"layer3", &layer3}, {"layer4", &layer4}};
  for (const auto& [name, layer] : stages) {
    x = (*layer)->forward(x);
    Collect(name, x, &features);
  }
  return features;
}

std::vector<ConvSlot> ResNetBackboneImpl::ConvSlots() {
  return {{"conv1", conv1.get(), bn1.get(), Activation::kReLU, false, &conv1_kernel}};
}

ResNetBackbone ResNet50Backbone() { return ResNetBackbone(std::array<int, 4>{3, 4, 6, 3}, std::array<bool, 3>{false, true, true}); }
ResNetBackbone ResNet101Backbone() { return ResNetBackbone(std::array<int, 4>{3, 4, 23, 3}, std::array<bool, 3>{false, true, true}); }

}  // namespace segtune
