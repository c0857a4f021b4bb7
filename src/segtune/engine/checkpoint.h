// Training checkpoints in train_dir: one .safetensors file per save (the agreed segtune checkpoint
// layout: __metadata__ "segtune.kind" = "checkpoint", model tensors under "model.<state-dict name>",
// the optimizer's state as one uint8 tensor "optimizer.archive" holding libtorch's serialized archive),
// written atomically. Metadata records the step, seed, model and the pipeline config text, so a
// checkpoint alone says how it was made; the learning-rate schedule and the data order are pure
// functions of (seed, step), so nothing else is needed to resume bit-for-bit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace segtune {

struct CheckpointInfo {
  int64_t step = 0;                        // Steps completed.
  std::map<std::string, std::string> metadata;  // Everything else (seed, architecture, config, miou...).
};

// Writes `path` atomically.
void SaveTrainingCheckpoint(const std::filesystem::path& path, torch::nn::Module& model,
                            torch::optim::Optimizer* optimizer, const CheckpointInfo& info);

// Restores model tensors (all must be present with equal shapes) and, if given, the optimizer state.
// Throws FormatError naming the file and the first tensor that does not fit.
CheckpointInfo LoadTrainingCheckpoint(const std::filesystem::path& path, torch::nn::Module& model,
                                      torch::optim::Optimizer* optimizer);

// "ckpt-000120.safetensors".
std::string CheckpointFileName(int64_t step);
// Step checkpoints in `dir`, oldest first.
std::vector<std::filesystem::path> ListStepCheckpoints(const std::filesystem::path& dir);
// The checkpoint file a user means by `given`: `given` itself if it exists, else for a TF-style
// prefix ".../ckpt-N" (also "ckpt-N.index" or "ckpt-N.data-00000-of-00001", what TF's exporter is
// given) the file ".../ckpt-00000N.safetensors". Throws IoError naming `given` and listing the
// checkpoints its directory holds when there is no such file, or when `given` is a directory.
std::filesystem::path ResolveCheckpointPath(const std::filesystem::path& given);
// Deletes all but the newest `keep` step checkpoints (never best.safetensors).
void PruneStepCheckpoints(const std::filesystem::path& dir, int keep);

}  // namespace segtune
