// `segtune export` for a detection model: a training checkpoint -> a detection export directory
// (detection_bundle.h). Called by ExportModel (export_model.h) when the model is a detection model.
#pragma once

#include <filesystem>

#include "segtune/export/bundle.h"
#include "segtune/export/export_model.h"
#include "segtune/models/detection/generalized_rcnn.h"

namespace segtune {

// Builds request.model_name with `options` (num_classes 0: from the checkpoint's box predictor),
// loads `weights` strictly (a checkpoint of another architecture or class count is a FormatError
// naming both) and writes model.safetensors, model.json (provenance taken from `provenance`),
// detector_features.onnx (detection_onnx.h) and label_map.pbtxt into a temporary directory renamed
// onto request.output_dir when complete.
// Returns output_dir. Throws UsageError / IoError / FormatError; nothing is left behind.
std::filesystem::path ExportDetectionModel(const ExportOptions& request, const NamedTensors& weights,
                                           detection::DetectionModelOptions options,
                                           const BundleMetadata& provenance);

}  // namespace segtune
