#include "segtune/models/semantic_model.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/layers.h"

namespace segtune {

SemanticModelImpl::SemanticModelImpl(SemanticModelInfo info, int64_t num_classes, bool has_aux)
    : info_(std::move(info)), num_classes_(num_classes), has_aux_(has_aux) {}

void SemanticModelImpl::SetChannelsLast(bool enabled) {
  channels_last_ = enabled;
  SetWeightsMemoryFormat(*this, enabled ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
}

torch::Tensor SemanticModelImpl::PrepareInput(const torch::Tensor& x) const {
  if (x.dim() != 4 || x.size(1) != 3) {
    throw UsageError(info_.name + ": expected an image batch [N, 3, H, W], got a tensor of shape " +
                     c10::str(x.sizes()));
  }
  return channels_last_ ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

SemanticOutput SemanticModelImpl::forward(const torch::Tensor& x) {
  return Resize(forward_unresized(x, /*with_aux=*/true), x.size(2), x.size(3));
}

SemanticOutput SemanticModelImpl::Resize(const SemanticOutput& logits, int64_t height, int64_t width) {
  // The small logits are made contiguous before resizing: converting the full-size output instead
  // (channels-last runs) would copy 64x more bytes, forward and backward.
  SemanticOutput resized;
  resized.out = ResizeBilinear(logits.out.contiguous(), height, width);
  if (logits.aux.defined()) resized.aux = ResizeBilinear(logits.aux.contiguous(), height, width);
  return resized;
}

SimpleSegmentationModelImpl::SimpleSegmentationModelImpl(SemanticModelInfo info, int64_t num_classes,
                                                         std::shared_ptr<BackboneImpl> backbone_,
                                                         std::shared_ptr<SemanticHeadImpl> classifier_,
                                                         std::shared_ptr<SemanticHeadImpl> aux_classifier_)
    : SemanticModelImpl(std::move(info), num_classes, aux_classifier_ != nullptr),
      backbone(register_module("backbone", std::move(backbone_))),
      classifier(register_module("classifier", std::move(classifier_))) {
  if (aux_classifier_) aux_classifier = register_module("aux_classifier", std::move(aux_classifier_));
}

SemanticOutput SimpleSegmentationModelImpl::forward_unresized(const torch::Tensor& input, bool with_aux) {
  FeatureMap features = backbone->forward(PrepareInput(input));
  SemanticOutput result;
  result.out = classifier->forward(features.at("out"));
  if (aux_classifier && with_aux) result.aux = aux_classifier->forward(features.at("aux"));
  return result;
}

}  // namespace segtune
