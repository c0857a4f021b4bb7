// The export directory of a detection model (Faster R-CNN / Mask R-CNN), written by
// `segtune export` and read by `segtune infer` / `inspect` / `eval --model`:
//
//   model.safetensors   the model's state dict (torchvision names, as models/detection builds it)
//   model.json          DetectionBundleMetadata as JSON: "kind": "detection", the architecture, every
//                       DetectionModelOptions number (so the model is rebuilt exactly as trained),
//                       the class names and the provenance (see docs/detection.md)
//   label_map.pbtxt     copy of the label map, when one was given
//   detector_*.onnx     the ONNX graphs, when written (detection_onnx.h)
//
//   DetectionBundle bundle = LoadDetectionBundle("model/fine_tuned_model");
//   auto out = bundle.model->forward({image_rgb01});   // eval mode, CPU: out.detections[0]
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/export/bundle.h"
#include "segtune/models/detection/generalized_rcnn.h"

namespace segtune {

struct DetectionBundleMetadata {
  // architecture, num_classes, class_names, mean/std (= options.image_mean/std) and provenance.
  BundleMetadata common;
  detection::DetectionModelOptions options;  // options.num_classes == common.num_classes.
  bool has_masks = false;                    // Mask R-CNN.
  std::vector<std::string> onnx_files;       // ONNX graphs in the directory (file names), if any.
};

struct DetectionBundle {
  detection::GeneralizedRCNN model{nullptr};  // Built from the metadata, weights loaded, eval mode.
  DetectionBundleMetadata metadata;
};

// True if `path` (an export directory, or a file in one) has a model.json of kind "detection".
bool IsDetectionBundle(const std::filesystem::path& path);

// Loads a detection export directory. Throws IoError if a file is missing, FormatError naming the
// file if model.json is malformed or the weights do not fit the architecture.
DetectionBundle LoadDetectionBundle(const std::filesystem::path& dir);

std::string DetectionBundleMetadataToJson(const DetectionBundleMetadata& metadata);  // Pretty-printed.
DetectionBundleMetadata DetectionBundleMetadataFromJson(const std::string& text, const std::filesystem::path& source);

// DetectionModelOptions <-> JSON (every field; missing fields keep the model's torchvision default).
nlohmann::ordered_json DetectionOptionsToJson(const detection::DetectionModelOptions& options);
detection::DetectionModelOptions DetectionOptionsFromJson(const nlohmann::json& json,
                                                          detection::DetectionModelOptions defaults);

}  // namespace segtune
