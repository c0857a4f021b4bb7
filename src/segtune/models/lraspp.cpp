#include "segtune/models/lraspp.h"

#include <torch/torch.h>

#include "segtune/models/layers.h"

namespace segtune {

LRASPPHeadImpl::LRASPPHeadImpl(int64_t low, int64_t high, int64_t classes, int64_t inter)
    : low_channels(low), high_channels(high), num_classes(classes), inter_channels(inter) {
  using torch::nn::Conv2d;
  using torch::nn::Conv2dOptions;
  cbr = register_module("cbr", torch::nn::Sequential(Conv2d(Conv2dOptions(high, inter, 1).bias(false)),
                                                     MakeBatchNorm(inter, {}), torch::nn::ReLU()));
  scale = register_module("scale", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1),
                                                         Conv2d(Conv2dOptions(high, inter, 1).bias(false)),
                                                         torch::nn::Sigmoid()));
  low_classifier = register_module("low_classifier", Conv2d(Conv2dOptions(low, classes, 1)));
  high_classifier = register_module("high_classifier", Conv2d(Conv2dOptions(inter, classes, 1)));
}

torch::Tensor LRASPPHeadImpl::forward(const torch::Tensor& low, const torch::Tensor& high) {
  torch::Tensor x = cbr->forward(high) * scale->forward(high);
  x = ResizeBilinear(x, low.size(2), low.size(3));
  return low_classifier->forward(low) + high_classifier->forward(x);
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

SemanticOutput LRASPPImpl::forward(const torch::Tensor& input) {
  const torch::Tensor x = PrepareInput(input);
  FeatureMap features = backbone->forward(x);
  const torch::Tensor logits = classifier->forward(features.at("low"), features.at("high"));
  return {UpsampleLogits(logits, x.size(2), x.size(3)), {}};
}

}  // namespace segtune
