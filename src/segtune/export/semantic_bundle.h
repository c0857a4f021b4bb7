// The export directory ("bundle") `segtune export` writes and `segtune infer` / `inspect` load:
//
//   model.onnx          the inference graph (see onnx_export.h for its conventions)
//   model.safetensors   the model's state dict (torchvision names, BatchNorm not folded, no aux head)
//   model.json          SemanticBundleMetadata as JSON (format below)
//   label_map.pbtxt     copy of the label map, when one was given
//
// A detection model's directory has the same files without model.onnx; its model.json says
// "kind": "detection" (see detection_bundle.h). A model.json without "kind" is a segmentation model.
//
//   SemanticBundle bundle = LoadSemanticBundle("model/fine_tuned_model");
//   auto out = bundle.model->forward(normalized_batch).out;   // eval mode, CPU
//   bundle.metadata.class_names[c];                            // "" where the label map has no id c
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segtune/export/bundle.h"
#include "segtune/formats/bundle_metadata.h"
#include "segtune/models/semantic_model.h"
#include "segtune/models/weights.h"

namespace segtune {

struct SemanticBundle {
  SemanticModel model;  // Built from the architecture, weights loaded, eval mode.
  SemanticBundleMetadata metadata;
};

// Loads an export directory. Throws IoError if a file is missing and FormatError naming the file if
// model.json is malformed or the weights do not fit the architecture; UsageError for a detection
// model's directory (LoadDetectionBundle reads those).
SemanticBundle LoadSemanticBundle(const std::filesystem::path& dir);

}  // namespace segtune
