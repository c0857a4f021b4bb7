// model.json, the description of an export directory ("bundle", export/semantic_bundle.h): what
// the model is (architecture, classes, normalization) and where it came from. LibTorch-free, so that
// the LibTorch-free runtime reads the same file with the same checks.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace segtune {

// The model.json fields every kind of bundle has.
struct BundleMetadata {
  int format_version = 1;
  std::string architecture;              // Registry name, e.g. "lraspp_mobilenet_v3_large".
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // Index = class id (from the label map; "background" for 0).
  std::array<float, 3> mean{};           // Normalization of RGB values in [0, 1].
  std::array<float, 3> std{};
  // Provenance.
  std::string segtune_version;
  std::string checkpoint;                // Path as given to export.
  int64_t checkpoint_step = -1;          // -1 when unknown.
  std::string config_path;
  std::string config_sha256;             // Of the pipeline config text; "" without a config.
  std::map<std::string, int64_t> dataset_records;  // e.g. {"train": 412}; empty when unknown.
};

// model.json of a segmentation model: the fields every bundle has, plus how its ONNX graph was written.
struct SemanticBundleMetadata : BundleMetadata {
  // The input size (H, W) the model was exported for: export's --input-size, else the training
  // config's fixed_shape_resizer. Unset when neither says (model.json: preprocessing.input_size).
  std::optional<std::pair<int64_t, int64_t>> input_size;
  std::string onnx_input_type;         // "float" or "uint8".
  std::string onnx_shape;              // "dynamic" or "fixed HxW".
};

// model.json's "kind" in an export directory (or beside an .onnx file): "segmentation" (also when
// absent) or "detection". "" when `path` has no model.json. Throws FormatError for unparsable JSON.
std::string BundleKind(const std::filesystem::path& path);

// The "provenance" object of model.json and its reader, which fills the provenance fields of
// *metadata and ignores unknown keys.
nlohmann::ordered_json ProvenanceToJson(const BundleMetadata& metadata);
void ProvenanceFromJson(const nlohmann::json& provenance, BundleMetadata* metadata);

std::string SemanticBundleMetadataToJson(const SemanticBundleMetadata& metadata);  // Pretty-printed.
SemanticBundleMetadata SemanticBundleMetadataFromJson(const std::string& text, const std::filesystem::path& source);

}  // namespace segtune
