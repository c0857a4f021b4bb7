// DeepLabV3 (torchvision models/segmentation/deeplabv3.py): ASPP and the DeepLabHead.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "segtune/models/layers.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

// torchvision ASPPConv: "0" conv 3x3 with padding = dilation = `dilation` (no bias), "1" bn, relu.
class ASPPConvImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  ASPPConvImpl(int64_t in_channels, int64_t out_channels, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<ConvSlot> ConvSlots() override;  // "0" (+ bn, relu).

  const int64_t dilation;
  torch::nn::Conv2d conv{nullptr};     // "0"
  FoldableBatchNorm2d bn{nullptr};  // "1"
  ConvKernelPtr kernel;
};
TORCH_MODULE(ASPPConv);

// torchvision ASPPPooling: "0" global average pool, "1" conv 1x1 (no bias), "2" bn, relu, then a
// bilinear resize (align_corners=False) back to the input's size.
class ASPPPoolingImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  ASPPPoolingImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<ConvSlot> ConvSlots() override;  // "1" (+ bn, relu).

  torch::nn::Conv2d conv{nullptr};     // "1"
  FoldableBatchNorm2d bn{nullptr};  // "2"
  ConvKernelPtr kernel;
};
TORCH_MODULE(ASPPPooling);

// torchvision ASPP(in_channels, atrous_rates, out_channels=256):
//   convs: "0" Sequential(conv 1x1, bn, relu), "1".."k" ASPPConv per rate, last ASPPPooling;
//   the branch outputs are concatenated on channels, then
//   project: Sequential("0" conv 1x1 to out_channels, "1" bn, "2" relu, "3" dropout 0.5).
class ASPPImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  ASPPImpl(int64_t in_channels, std::vector<int64_t> atrous_rates, int64_t out_channels = 256);
  torch::Tensor forward(const torch::Tensor& x);
  // "convs.0.0" (+ bn, relu) and "project.0" (+ bn, relu; the dropout is the identity in eval mode).
  std::vector<ConvSlot> ConvSlots() override;

  const std::vector<int64_t> atrous_rates;
  const int64_t out_channels;
  torch::nn::ModuleList convs{nullptr};
  torch::nn::Sequential branch1x1{nullptr};  // convs[0]
  std::vector<ASPPConv> atrous;              // convs[1..k]
  ASPPPooling pooling{nullptr};              // convs[k+1]
  torch::nn::Sequential project{nullptr};
  ConvKernelPtr branch1x1_kernel, project_kernel;
};
TORCH_MODULE(ASPP);

// torchvision DeepLabHead(in_channels, num_classes), a Sequential:
//   "0" ASPP(in_channels, {12, 24, 36}), "1" conv 3x3 256->256 padding 1 (no bias), "2" bn, "3" relu,
//   "4" conv 1x1 to num_classes (with bias) = the class-specific layer.
class DeepLabHeadImpl : public SemanticHeadImpl, public ConvKernelHost {
 public:
  DeepLabHeadImpl(int64_t in_channels, int64_t num_classes);
  torch::Tensor forward(const torch::Tensor& x) override;
  std::vector<ConvSlot> ConvSlots() override;  // "1" (+ bn, relu) and "4".

  ASPP aspp{nullptr};                     // "0"
  torch::nn::Conv2d conv{nullptr};        // "1"
  FoldableBatchNorm2d bn{nullptr};     // "2"
  torch::nn::Conv2d classifier{nullptr};  // "4"
  ConvKernelPtr conv_kernel, classifier_kernel;
};
TORCH_MODULE(DeepLabHead);

}  // namespace segtune
