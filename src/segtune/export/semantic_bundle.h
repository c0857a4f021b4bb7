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

#include "segtune/models/semantic_model.h"
#include "segtune/models/weights.h"

namespace segtune {

struct SemanticBundleMetadata {
  int format_version = 1;
  std::string architecture;            // Registry name, e.g. "lraspp_mobilenet_v3_large".
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // Index = class id (from the label map; "background" for 0).
  std::array<float, 3> mean{};         // Normalization of RGB values in [0, 1].
  std::array<float, 3> std{};
  // The input size (H, W) the model was exported for: export's --input-size, else the training
  // config's fixed_shape_resizer. Unset when neither says (model.json: preprocessing.input_size).
  std::optional<std::pair<int64_t, int64_t>> input_size;
  std::string onnx_input_type;         // "float" or "uint8".
  std::string onnx_shape;              // "dynamic" or "fixed HxW".
  // Provenance.
  std::string segtune_version;
  std::string checkpoint;              // Path as given to export.
  int64_t checkpoint_step = -1;        // -1 when unknown.
  std::string config_path;
  std::string config_sha256;           // Of the pipeline config text; "" without a config.
  std::map<std::string, int64_t> dataset_records;  // e.g. {"train": 412}; empty when unknown.
};

struct SemanticBundle {
  SemanticModel model;  // Built from the architecture, weights loaded, eval mode.
  SemanticBundleMetadata metadata;
};

// Loads an export directory. Throws IoError if a file is missing and FormatError naming the file if
// model.json is malformed or the weights do not fit the architecture; UsageError for a detection
// model's directory (LoadDetectionBundle reads those).
SemanticBundle LoadSemanticBundle(const std::filesystem::path& dir);

// model.json's "kind" in an export directory (or beside an .onnx file): "segmentation" (also when
// absent) or "detection". "" when `path` has no model.json. Throws FormatError for unparsable JSON.
std::string BundleKind(const std::filesystem::path& path);

// The "provenance" object of model.json (shared by every kind of bundle) and its reader, which
// fills the provenance fields of *metadata and ignores unknown keys.
nlohmann::ordered_json ProvenanceToJson(const SemanticBundleMetadata& metadata);
void ProvenanceFromJson(const nlohmann::json& provenance, SemanticBundleMetadata* metadata);

// Parameters then buffers of `model` by state-dict name (detached, contiguous): what model.safetensors holds.
NamedTensors StateDictOf(torch::nn::Module& model);

std::string BundleMetadataToJson(const SemanticBundleMetadata& metadata);  // Pretty-printed.
SemanticBundleMetadata SemanticBundleMetadataFromJson(const std::string& text, const std::filesystem::path& source);

}  // namespace segtune
