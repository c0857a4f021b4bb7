#include "segtune/models/lraspp.h"

#include <torch/torch.h>

#include "segtune/models/layers.h"

namespace segtune {

LRASPPHeadImpl::LRASPPHeadImpl(int64_t low, int64_t high, int64_t classes, int64_t inter)
    : low_channels(low), high_channels(high), num_classes(classes), inter_channels(inter) {
  using torch::nn::Conv2dOptions;
  cbr = register_module("cbr", torch::nn::Sequential(MakeConv2d(Conv2dOptions(high, inter, 1).bias(false)),
                                                     MakeBatchNorm(inter, {}), torch::nn::ReLU()));
  scale = register_module("scale", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1),
                                                         MakeConv2d(Conv2dOptions(high, inter, 1).bias(false)),
                                                         torch::nn::Sigmoid()));
  low_classifier = register_module("low_classifier", MakeConv2d(Conv2dOptions(low, classes, 1)));
  high_classifier = register_module("high_classifier", MakeConv2d(Conv2dOptions(inter, classes, 1)));
}

torch::Tensor LRASPPHeadImpl::forward(const torch::Tensor& low, const torch::Tensor& high) {
  torch::Tensor x = Cbr(high) * Scale(high);
  x = ResizeBilinear(x, low.size(2), low.size(3));
  torch::Tensor low_logits = RunConvKernel(low_kernel, low);
  if (!low_logits.defined()) low_logits = low_classifier->forward(low);
  if (torch::Tensor sum = RunConvKernel(high_kernel, x, low_logits); sum.defined()) return sum;
  return low_logits + high_classifier->forward(x);
}

torch::Tensor LRASPPHeadImpl::Cbr(const torch::Tensor& high) {
  if (torch::Tensor y = RunConvKernel(cbr_kernel, high); y.defined()) return y;
  return cbr->forward(high);
}

torch::Tensor LRASPPHeadImpl::Scale(const torch::Tensor& high) {
  // scale's "0" is torch::nn::AdaptiveAvgPool2d(1) (the module tree torchvision has); the same pool
  // is computed here with the cheaper backward, once, for the kernel or for scale.1 and scale.2.
  const torch::Tensor pooled = GlobalAveragePool(high);
  if (torch::Tensor y = RunConvKernel(scale_kernel, pooled); y.defined()) return y;
  return torch::sigmoid(scale->ptr(1)->as<torch::nn::Conv2d>()->forward(pooled));
}

std::vector<ConvSlot> LRASPPHeadImpl::ConvSlots() {
  const auto conv_at = [](torch::nn::Sequential& seq, size_t i) { return seq->ptr(i)->as<torch::nn::Conv2d>(); };
  const auto* cbr_bn = dynamic_cast<const FoldableBatchNorm2dImpl*>(cbr->ptr(1).get());
  return {{"cbr.0", conv_at(cbr, 0), cbr_bn, Activation::kReLU, false, &cbr_kernel},
          {"scale.1", conv_at(scale, 1), nullptr, Activation::kSigmoid, false, &scale_kernel},
          {"low_classifier", low_classifier.get(), nullptr, Activation::kNone, false, &low_kernel},
          {"high_classifier", high_classifier.get(), nullptr, Activation::kNone, true, &high_kernel}};
}

LRASPPImpl::LRASPPImpl(SemanticModelInfo info, MobileNetV3LargeBackbone backbone_, int64_t classes,
                       int64_t inter_channels)
    : SemanticModelImpl(std::move(info), classes, /*has_aux=*/false) {
  // torchvision: low = C2 (stage_indices[-4], output stride 8), high = C5 (stage_indices[-1]).
  const std::vector<int> stages = backbone_->StageIndices();
  const int low_pos = stages[stages.size() - 4];
  const int high_pos = stages.back();
  backbone_->set_return_layers({{std::to_string(low_pos), "low"}, {std::to_string(high_pos), "high"}});
  backbone = register_module("backbone", backbone_);
  classifier = register_module("classifier", LRASPPHead(backbone->OutChannels(low_pos),
                                                        backbone->OutChannels(high_pos), classes, inter_channels));
}

SemanticOutput LRASPPImpl::forward_unresized(const torch::Tensor& input, bool /*with_aux*/) {
  FeatureMap features = backbone->forward(PrepareInput(input));
  return {classifier->forward(features.at("low"), features.at("high")), {}};
}

}  // namespace segtune
