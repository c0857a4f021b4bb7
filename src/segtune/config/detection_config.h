// Pipeline configs that describe a detection model (torchvision's Faster R-CNN / Mask R-CNN).
//
// A config is a detection config when, after loading (config/pipeline_config.h), its model is
// `detection { ... }`. That happens for:
//   model { detection { architecture: "fasterrcnn_mobilenet_v3_large_320_fpn" num_classes: 3 } }
//   model { segmentation { architecture: "<a detection model name>" num_classes: 3 } }  (moved over)
//   model { faster_rcnn { ... } }  (a TF OD API config, mapped by MapFasterRcnn; see docs/training.md)
#pragma once

#include <string>

#include "segtune/config/detection_options.h"
#include "segtune/config/pipeline_config.h"

namespace segtune {

// True when the loaded config describes a detection model.
bool IsDetectionConfig(const PipelineConfig& config);

// The detection model name and torchvision options (num_classes incl. background, min/max size,
// RPN/box thresholds, detections per image) a loaded config describes: the model's
// DefaultDetectionOptions with every field the config sets applied. Throws UsageError for a
// non-detection config, an unknown architecture or num_classes < 2.
struct DetectionConfig {
  std::string model_name;
  detection::DetectionModelOptions options;
};
DetectionConfig DetectionConfigFromPipeline(const PipelineConfig& config);

// Replaces config->proto.model()'s TF `faster_rcnn` block by the `detection` block of the nearest
// torchvision model, and appends a warning per mapping decision and per mapped field segtune applies
// differently. feature_extractor.type *resnet50* -> fasterrcnn_resnet50_fpn (maskrcnn_resnet50_fpn
// when second_stage_box_predictor.mask_rcnn_box_predictor.predict_instance_masks), *resnet101*,
// *resnet152*, *inception_resnet* -> the same with a warning, *mobilenet* ->
// fasterrcnn_mobilenet_v3_large_fpn, or its _320_ variant when the resizer's short side is <= 320.
// Throws FormatError naming the type and the models to use for any other feature extractor.
void MapFasterRcnn(PipelineConfig* config);

// Moves `segmentation { architecture: <detection model> ... }` into `detection { ... }` (num_classes,
// keep_aspect_ratio_resizer min/max dimension). No-op for other configs.
void MoveDetectionArchitecture(PipelineConfig* config);

}  // namespace segtune
