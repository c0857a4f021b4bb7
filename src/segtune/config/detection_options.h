// The numbers torchvision's FasterRCNN / MaskRCNN constructors take, as plain data: the pipeline
// config fills them (config/detection_config.h) without LibTorch, and the models layer builds from
// them (models/detection/generalized_rcnn.h: BuildDetectionModel).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace segtune::detection {

// torchvision.models.detection.rpn.RegionProposalNetwork's settings.
struct RpnOptions {
  int64_t pre_nms_top_n_train = 2000;
  int64_t pre_nms_top_n_test = 1000;
  int64_t post_nms_top_n_train = 2000;
  int64_t post_nms_top_n_test = 1000;
  double nms_thresh = 0.7;
  double fg_iou_thresh = 0.7;
  double bg_iou_thresh = 0.3;
  int64_t batch_size_per_image = 256;
  double positive_fraction = 0.5;
  double score_thresh = 0.0;
};

// torchvision.models.detection.roi_heads.RoIHeads's settings.
struct RoIHeadsOptions {
  double fg_iou_thresh = 0.5;
  double bg_iou_thresh = 0.5;
  int64_t batch_size_per_image = 512;
  double positive_fraction = 0.25;
  std::array<double, 4> bbox_reg_weights{10.0, 10.0, 5.0, 5.0};
  double score_thresh = 0.05;
  double nms_thresh = 0.5;
  int64_t detections_per_img = 100;
};

// Everything torchvision's FasterRCNN / MaskRCNN constructors take as numbers.
// DefaultDetectionOptions(model) gives each model's torchvision defaults.
struct DetectionModelOptions {
  int64_t num_classes = 91;  // Including the background (class 0).
  int64_t min_size = 800;
  int64_t max_size = 1333;
  std::vector<double> image_mean{0.485, 0.456, 0.406};
  std::vector<double> image_std{0.229, 0.224, 0.225};
  RpnOptions rpn;
  RoIHeadsOptions box;
  // Trainable backbone stages counted from the end (torchvision's trainable_backbone_layers for a
  // pretrained model: 3). ResNet 0..5, MobileNetV3 0..6.
  int trainable_backbone_layers = 3;
  // The backbone's norm_layer: torchvision's FrozenBatchNorm2d (its choice with pretrained weights,
  // and what the COCO checkpoints hold), else a trainable nn.BatchNorm2d (its choice from scratch).
  // Same state-dict names; BatchNorm2d adds num_batches_tracked, which LoadDetectionWeights tolerates.
  bool frozen_batch_norm = true;
};

// torchvision's defaults for `model` (a ListDetectionModels() entry, config/model_catalog.h):
// fasterrcnn_mobilenet_v3_large_fpn has rpn score_thresh 0.05; the _320_ variant also min_size 320,
// max_size 640 and 150 proposals before/after NMS at test time. Throws UsageError for an unknown name.
DetectionModelOptions DefaultDetectionOptions(const std::string& model);

}  // namespace segtune::detection
