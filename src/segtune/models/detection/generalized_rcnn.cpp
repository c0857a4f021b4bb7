#include "segtune/models/detection/generalized_rcnn.h"

#include "segtune/core/error.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/detection/frozen_batch_norm.h"

namespace segtune::detection {
namespace {

// torchvision's GeneralizedRCNN check: every target box must have positive width and height.
void CheckTargetBoxes(const std::vector<DetectionTarget>& targets) {
  for (size_t i = 0; i < targets.size(); ++i) {
    const torch::Tensor boxes = targets[i].boxes;
    if (boxes.dim() != 2 || boxes.size(1) != 4) {
      throw UsageError("detection target " + std::to_string(i) + ": boxes must be [N,4], got " + c10::str(boxes.sizes()));
    }
    const torch::Tensor degenerate = (boxes.slice(1, 2) <= boxes.slice(1, 0, 2)).any(1);
    if (degenerate.any().item<bool>()) {
      const int64_t b = torch::where(degenerate)[0][0].item<int64_t>();
      throw UsageError("detection target " + std::to_string(i) + ": box " + std::to_string(b) + " " +
                       c10::str(boxes[b]) + " has no positive width and height (x2 > x1, y2 > y1 expected)");
    }
  }
}

}  // namespace

GeneralizedRCNNImpl::GeneralizedRCNNImpl(GeneralizedRCNNTransform t, BackboneWithFPN b, RegionProposalNetwork r,
                                         RoIHeads h) {
  transform = register_module("transform", std::move(t));
  backbone = register_module("backbone", std::move(b));
  rpn = register_module("rpn", std::move(r));
  roi_heads = register_module("roi_heads", std::move(h));
}

void GeneralizedRCNNImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (frozen_batch_norm) KeepBatchNormInEval(*backbone);
}

DetectionOutput GeneralizedRCNNImpl::forward(const std::vector<torch::Tensor>& images,
                                             const std::vector<DetectionTarget>* targets) {
  if (is_training()) {
    if (targets == nullptr) throw UsageError("Faster/Mask R-CNN: training mode needs targets");
    CheckTargetBoxes(*targets);
  }
  std::vector<ImageSize> original_sizes;
  for (const auto& image : images) original_sizes.push_back({image.size(-2), image.size(-1)});
  std::vector<DetectionTarget> resized_targets;
  if (targets != nullptr) resized_targets = *targets;
  const ImageList batch = transform->forward(images, targets != nullptr ? &resized_targets : nullptr);
  const FeatureMaps features = backbone->forward(batch.tensors);
  const std::vector<DetectionTarget>* heads_targets = targets != nullptr ? &resized_targets : nullptr;
  RpnOutput proposals = rpn->forward(batch, features, heads_targets);
  RoIHeadsOutput heads = roi_heads->forward(features, proposals.boxes, batch.image_sizes, heads_targets);
  DetectionOutput out;
  if (is_training()) {
    out.losses = std::move(heads.losses);
    out.losses["loss_objectness"] = proposals.loss_objectness;
    out.losses["loss_rpn_box_reg"] = proposals.loss_rpn_box_reg;
  } else {
    out.detections = transform->postprocess(std::move(heads.detections), batch.image_sizes, original_sizes);
  }
  return out;
}

GeneralizedRCNN BuildDetectionModel(const std::string& model, const DetectionModelOptions& options) {
  const DetectionModelInfo& info = GetDetectionModelInfo(model);
  if (options.num_classes < 2) {
    throw UsageError(model + ": num_classes must be at least 2 (background + one class), got " +
                     std::to_string(options.num_classes));
  }
  const bool resnet = info.backbone == "resnet50";
  BackboneWithFPN backbone =
      resnet ? ResNet50FpnBackbone(options.trainable_backbone_layers, options.frozen_batch_norm)
             : MobileNetV3LargeFpnBackbone(options.trainable_backbone_layers, options.frozen_batch_norm);
  // resnet: one anchor size per FPN level (5 levels); mobilenet: all five sizes on each of 3 levels.
  std::vector<std::vector<double>> sizes;
  if (resnet) {
    sizes = {{32}, {64}, {128}, {256}, {512}};
  } else {
    sizes.assign(3, {32, 64, 128, 256, 512});
  }
  const std::vector<std::vector<double>> ratios(sizes.size(), {0.5, 1.0, 2.0});
  AnchorGenerator anchors(sizes, ratios);
  const int64_t channels = backbone->out_channels;
  RPNHead rpn_head(channels, anchors.NumAnchorsPerLocation().front());
  RegionProposalNetwork rpn(std::move(anchors), rpn_head, options.rpn);

  const std::vector<std::string> levels{"0", "1", "2", "3"};
  std::optional<MaskBranch> mask;
  if (info.has_masks) {
    mask = MaskBranch{MultiScaleRoIAlign(levels, {14, 14}, 2), MaskRCNNHeads(channels, std::vector<int64_t>(4, 256), 1),
                      MaskRCNNPredictor(256, 256, options.num_classes)};
  }
  RoIHeads heads(MultiScaleRoIAlign(levels, {7, 7}, 2), TwoMLPHead(channels * 7 * 7, 1024),
                 FastRCNNPredictor(1024, options.num_classes), options.box, std::move(mask));
  GeneralizedRCNNTransform transform(std::vector<int64_t>{options.min_size}, options.max_size, options.image_mean,
                                     options.image_std);
  GeneralizedRCNN built(transform, backbone, rpn, heads);
  built->frozen_batch_norm = options.frozen_batch_norm;
  return built;
}

}  // namespace segtune::detection
