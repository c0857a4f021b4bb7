// `segtune export`: a trained checkpoint -> a self-contained export directory (semantic_bundle.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segtune/export/onnx_export.h"

namespace segtune {

struct ExportOptions {
  std::filesystem::path pipeline_config;  // Gives model, classes and label map; optional.
  std::string model_name;                 // Without a config (or to override it); else the checkpoint's
                                          // "segtune.architecture" / "architecture" metadata.
  int64_t num_classes = 0;                // 0 = from the config (or the checkpoint's classifier).
  std::filesystem::path label_map;        // Optional; overrides the config's.
  std::filesystem::path checkpoint;       // Required.
  std::filesystem::path output_dir;       // Required; must not exist, be empty, or (with overwrite)
                                          // hold a previous export (model.json): see core/output_guard.h.
  bool overwrite = false;                 // --overwrite: replace a previous export, atomically.
  OnnxInputType input_type = OnnxInputType::kFloat;
  std::optional<std::pair<int64_t, int64_t>> fixed_size;  // --input-size: fixed graph for OpenCV DNN.
};

// Builds the model, loads the checkpoint strictly (an auxiliary head in the checkpoint is ignored),
// and writes model.onnx, model.safetensors, model.json and label_map.pbtxt into a temporary
// directory that is renamed onto output_dir only when everything is written. Returns output_dir.
// Throws UsageError (nothing to export from), IoError (missing files, unwritable output) or
// FormatError (a checkpoint that does not fit the architecture, naming both); nothing is left behind.
// A detection model (models/detection/detection_registry.h) is exported by ExportDetectionModel
// (detection_export.h) instead: no model.onnx, a model.json of kind "detection".
std::filesystem::path ExportModel(const ExportOptions& request);

// Class names by id for a bundle: from the label map (warning about ids outside [0, num_classes)),
// else "background" for 0 and "" for the rest.
std::vector<std::string> ExportClassNames(const std::filesystem::path& label_map, int64_t num_classes);

}  // namespace segtune
