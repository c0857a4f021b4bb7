#include "segtune/models/fcn.h"

#include <torch/torch.h>

#include "segtune/models/layers.h"

namespace segtune {

FCNHeadImpl::FCNHeadImpl(int64_t in, int64_t classes)
    : in_channels(in), inter_channels(in / 4), channels(classes) {
  conv = register_module("0", MakeConv2d(torch::nn::Conv2dOptions(in, inter_channels, 3).padding(1).bias(false)));
  bn = register_module("1", MakeBatchNorm(inter_channels, {}));
  dropout = register_module("3", torch::nn::Dropout(0.1));
  classifier = register_module("4", MakeConv2d(torch::nn::Conv2dOptions(inter_channels, classes, 1)));
}

torch::Tensor FCNHeadImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = RunConvKernel(conv_kernel, x);
  if (!y.defined()) y = dropout->forward(bn->forward(conv->forward(x)).relu_());
  if (torch::Tensor logits = RunConvKernel(classifier_kernel, y); logits.defined()) return logits;
  return classifier->forward(y);
}

std::vector<ConvSlot> FCNHeadImpl::ConvSlots() {
  return {{"0", conv.get(), bn.get(), Activation::kReLU, false, &conv_kernel},
          {"4", classifier.get(), nullptr, Activation::kNone, false, &classifier_kernel}};
}

}  // namespace segtune
