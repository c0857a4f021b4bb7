// What every export directory ("bundle") has, whatever the task: model.safetensors (the state dict,
// torchvision names), model.json (architecture, classes, normalization, provenance; "kind" says the
// task) and label_map.pbtxt (a copy, when one was given). semantic_bundle.h and detection_bundle.h
// add their own files and model.json fields.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/models/weights.h"

namespace torch::nn {
class Module;
}

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

// model.json's "kind" in an export directory (or beside an .onnx file): "segmentation" (also when
// absent) or "detection". "" when `path` has no model.json. Throws FormatError for unparsable JSON.
std::string BundleKind(const std::filesystem::path& path);

// The "provenance" object of model.json and its reader, which fills the provenance fields of
// *metadata and ignores unknown keys.
nlohmann::ordered_json ProvenanceToJson(const BundleMetadata& metadata);
void ProvenanceFromJson(const nlohmann::json& provenance, BundleMetadata* metadata);

// Parameters then buffers of `model` by state-dict name (detached, contiguous): what model.safetensors holds.
NamedTensors StateDictOf(torch::nn::Module& model);

// Runs `load`, which loads the checkpoint into a model freshly built as `architecture` with
// `num_classes`. Its FormatError comes back naming the checkpoint and both, since the usual cause is a
// checkpoint of another architecture or class count.
void LoadCheckpointForExport(const std::filesystem::path& checkpoint, const std::string& architecture,
                             int64_t num_classes, const std::function<void()>& load);

// Writes model.safetensors (the state dict of `model`), model.json and, when `label_map` is given, a
// copy of it as label_map.pbtxt into the temporary directory of `out`, then commits `out`.
void CommitBundle(AtomicDirectory& out, torch::nn::Module& model, const std::string& model_json,
                  const std::filesystem::path& label_map);

}  // namespace segtune
