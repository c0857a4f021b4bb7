// The common interface of segtune's semantic segmentation models.
//
// A model takes a normalized float image batch [N, 3, H, W] (ImageNet mean/std, see
// SemanticModelInfo) and returns per-pixel class logits at the input resolution, plus the
// auxiliary head's logits when the model was built with aux_loss. Parameter and buffer names are
// torchvision's ("backbone.*", "classifier.*", "aux_classifier.*"), so torchvision checkpoints load
// as-is. Models are built only by the factories in semantic_registry.h.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "segtune/config/model_catalog.h"  // SemanticModelInfo.
#include "segtune/models/backbone.h"

namespace segtune {

struct SemanticOutput {
  torch::Tensor out;  // [N, num_classes, H, W] logits.
  torch::Tensor aux;  // Same shape; undefined when the model has no auxiliary head.
};

class SemanticModelImpl : public torch::nn::Module {
 public:
  SemanticModelImpl(SemanticModelInfo info, int64_t num_classes, bool has_aux);

  // x: [N, 3, H, W] float, normalized. Returns logits resized (bilinear, align_corners=False) to H x W,
  // contiguous in the default memory format: forward_unresized's, resized.
  SemanticOutput forward(const torch::Tensor& x);
  // The heads' logits at their own resolution (1/8 of the input for LR-ASPP and DeepLabV3), before the
  // final resize: inference resizes and takes the argmax in one pass (export/prepare_inference.h),
  // and has no use for the auxiliary head (with_aux false: aux stays undefined).
  virtual SemanticOutput forward_unresized(const torch::Tensor& x, bool with_aux) = 0;
  // `logits` resized as forward resizes them.
  static SemanticOutput Resize(const SemanticOutput& logits, int64_t height, int64_t width);

  const SemanticModelInfo& info() const { return info_; }
  int64_t num_classes() const { return num_classes_; }
  bool has_aux() const { return has_aux_; }

  // Channels-last (NHWC) execution: converts every 4-D parameter and buffer now (and forward's
  // input on each call). Faster on CPU for MobileNetV3 (see bench/models_bench.sh). Call after
  // loading weights or before: values are unchanged, only strides differ.
  void SetChannelsLast(bool enabled);
  bool channels_last() const { return channels_last_; }

 protected:
  torch::Tensor PrepareInput(const torch::Tensor& x) const;  // Checks the shape, applies the format.

 private:
  SemanticModelInfo info_;
  int64_t num_classes_;
  bool has_aux_;
  bool channels_last_ = false;
};
using SemanticModel = std::shared_ptr<SemanticModelImpl>;

// A head that maps one backbone feature to class logits at the feature's resolution
// (DeepLabHead, FCNHead).
class SemanticHeadImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& feature) = 0;
};

// torchvision's _SimpleSegmentationModel (DeepLabV3, FCN): out = classifier(features["out"]),
// aux = aux_classifier(features["aux"]), each resized to the input size. aux_classifier may be null.
class SimpleSegmentationModelImpl : public SemanticModelImpl {
 public:
  SimpleSegmentationModelImpl(SemanticModelInfo info, int64_t num_classes, std::shared_ptr<BackboneImpl> backbone,
                              std::shared_ptr<SemanticHeadImpl> classifier,
                              std::shared_ptr<SemanticHeadImpl> aux_classifier);
  SemanticOutput forward_unresized(const torch::Tensor& x, bool with_aux) override;

  std::shared_ptr<BackboneImpl> backbone;
  std::shared_ptr<SemanticHeadImpl> classifier;
  std::shared_ptr<SemanticHeadImpl> aux_classifier;  // Null without aux head.
};

}  // namespace segtune
