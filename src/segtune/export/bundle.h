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
#include "segtune/formats/bundle_metadata.h"
#include "segtune/models/weights.h"

namespace torch::nn {
class Module;
}

namespace segtune {

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
