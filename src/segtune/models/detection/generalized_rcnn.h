// Faster R-CNN and Mask R-CNN as torchvision.models.detection builds them (0.14): GeneralizedRCNN
// = transform -> backbone (with FPN) -> RPN -> RoI heads -> transform.postprocess, with
// torchvision's module names, so its COCO checkpoints load key for key.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

#include "segtune/config/detection_options.h"  // DetectionModelOptions, DefaultDetectionOptions.
#include "segtune/models/detection/backbone_fpn.h"
#include "segtune/models/detection/roi_heads.h"
#include "segtune/models/detection/rpn.h"
#include "segtune/models/detection/transform.h"
#include "segtune/models/detection/types.h"

namespace segtune::detection {

struct DetectionOutput {
  std::map<std::string, torch::Tensor> losses;  // Training: loss_objectness, loss_rpn_box_reg, loss_classifier,
                                                // loss_box_reg (+ loss_mask).
  std::vector<Detections> detections;           // Eval: per image, in the original image's pixels; masks
                                                // [N,1,H,W] probabilities pasted into the image.
};

// Children "transform" (no tensors), "backbone", "rpn", "roi_heads".
class GeneralizedRCNNImpl : public torch::nn::Module {
 public:
  GeneralizedRCNNImpl(GeneralizedRCNNTransform transform, BackboneWithFPN backbone, RegionProposalNetwork rpn,
                      RoIHeads roi_heads);

  // images: [3,H,W] float in [0,1], sizes may differ. Training mode needs targets (boxes in the
  // image's pixels, labels, masks for Mask R-CNN) and returns losses; eval mode returns
  // detections. Throws UsageError for training without targets, or for a target box with
  // x2 <= x1 or y2 <= y1 (naming the image and box, as torchvision).
  DetectionOutput forward(const std::vector<torch::Tensor>& images,
                          const std::vector<DetectionTarget>* targets = nullptr);

  // With frozen_batch_norm, also keeps the backbone's BatchNorms in eval mode (FrozenBatchNorm2d
  // never updates); trainable BatchNorms train with the rest.
  void train(bool on = true) override;

  bool frozen_batch_norm = true;  // Set by BuildDetectionModel from DetectionModelOptions.

  GeneralizedRCNNTransform transform{nullptr};
  BackboneWithFPN backbone{nullptr};
  RegionProposalNetwork rpn{nullptr};
  RoIHeads roi_heads{nullptr};
};
TORCH_MODULE(GeneralizedRCNN);

// Builds `model` with `options` (torchvision's fasterrcnn_resnet50_fpn, fasterrcnn_mobilenet_v3_large_fpn,
// fasterrcnn_mobilenet_v3_large_320_fpn, maskrcnn_resnet50_fpn with norm_layer FrozenBatchNorm2d
// or, with options.frozen_batch_norm false, nn.BatchNorm2d),
// freshly initialised as torchvision. Throws UsageError for an unknown name or invalid options.
GeneralizedRCNN BuildDetectionModel(const std::string& model, const DetectionModelOptions& options);

}  // namespace segtune::detection
