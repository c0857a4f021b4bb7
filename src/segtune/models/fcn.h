// FCN (torchvision models/segmentation/fcn.py): the FCNHead, used as the classifier of
// fcn_resnet50/101 and as the auxiliary classifier ("aux_classifier") of every DeepLabV3/FCN model.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/pimpl.h>

#include "segtune/models/layers.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

// torchvision FCNHead(in_channels, channels), a Sequential:
//   "0" conv 3x3 padding 1 to in_channels / 4 (no bias), "1" bn, "2" relu, "3" dropout(0.1),
//   "4" conv 1x1 to `channels` classes (with bias) = the class-specific layer.
class FCNHeadImpl : public SemanticHeadImpl, public ConvKernelHost {
 public:
  FCNHeadImpl(int64_t in_channels, int64_t channels);
  torch::Tensor forward(const torch::Tensor& x) override;
  // "0" (+ bn, relu; the dropout is the identity in eval mode) and "4".
  std::vector<ConvSlot> ConvSlots() override;

  const int64_t in_channels;
  const int64_t inter_channels;
  const int64_t channels;
  torch::nn::Conv2d conv{nullptr};        // "0"
  FoldableBatchNorm2d bn{nullptr};     // "1"
  torch::nn::Dropout dropout{nullptr};    // "3", p = 0.1
  torch::nn::Conv2d classifier{nullptr};  // "4"
  ConvKernelPtr conv_kernel, classifier_kernel;
};
TORCH_MODULE(FCNHead);

}  // namespace segtune
