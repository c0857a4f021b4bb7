// LR-ASPP (torchvision models/segmentation/lraspp.py): Lite R-ASPP head and model, from
// "Searching for MobileNetV3".
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

// torchvision LRASPPHead(low_channels, high_channels, num_classes, inter_channels):
//   x = cbr(high) * scale(high), with cbr = Sequential(conv 1x1 no bias, bn, relu) and
//   scale = Sequential("0" global avg pool, "1" conv 1x1 no bias, "2" sigmoid);
//   x resized (bilinear) to low's size; return low_classifier(low) + high_classifier(x).
// low_classifier and high_classifier (1x1 conv with bias) are the class-specific layers.
// ConvSlots: cbr.0 (+ bn, relu), scale.1 (sigmoid), low_classifier, and high_classifier with the
// low classifier's logits added (the final sum fused into it).
class LRASPPHeadImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  LRASPPHeadImpl(int64_t low_channels, int64_t high_channels, int64_t num_classes, int64_t inter_channels);
  torch::Tensor forward(const torch::Tensor& low, const torch::Tensor& high);
  std::vector<ConvSlot> ConvSlots() override;

  const int64_t low_channels, high_channels, num_classes, inter_channels;
  torch::nn::Sequential cbr{nullptr};
  torch::nn::Sequential scale{nullptr};
  torch::nn::Conv2d low_classifier{nullptr};
  torch::nn::Conv2d high_classifier{nullptr};
  ConvKernelPtr cbr_kernel, scale_kernel, low_kernel, high_kernel;

 private:
  torch::Tensor Cbr(const torch::Tensor& high);
  torch::Tensor Scale(const torch::Tensor& high);
};
TORCH_MODULE(LRASPPHead);

// torchvision LRASPP: backbone returns "low" (stride 8) and "high" (stride 16) features; out =
// classifier(low, high) resized to the input size. No auxiliary head.
class LRASPPImpl : public SemanticModelImpl {
 public:
  LRASPPImpl(SemanticModelInfo info, MobileNetV3LargeBackbone backbone, int64_t num_classes,
             int64_t inter_channels = 128);
  SemanticOutput forward_unresized(const torch::Tensor& x, bool with_aux) override;  // No aux head.

  MobileNetV3LargeBackbone backbone{nullptr};
  LRASPPHead classifier{nullptr};
};

}  // namespace segtune
