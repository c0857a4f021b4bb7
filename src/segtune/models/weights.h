// Reading and writing model weights: torchvision `.pth` files (torch.save zip archives),
// `.safetensors`, and segtune checkpoints. No Python, no TorchScript.
#pragma once

#include <filesystem>
#include <future>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace segtune {

// Tensors by parameter name, in file order (state_dict order for .pth files).
struct NamedTensors {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  std::map<std::string, std::string> metadata;  // safetensors __metadata__ / checkpoint info.
  const torch::Tensor* Find(const std::string& name) const;
};

// A segtune checkpoint is a .safetensors file whose __metadata__ has "segtune.kind" = "checkpoint".
// The model's tensors are stored as "model.<state_dict name>"; every other prefix ("optimizer.",
// ...) belongs to the trainer. Write one with SaveSafetensors after adding the prefix and the
// metadata; read the model part back with LoadWeights, the whole file with ReadSafetensors.
inline constexpr const char* kCheckpointKindKey = "segtune.kind";
inline constexpr const char* kCheckpointKind = "checkpoint";
inline constexpr const char* kCheckpointModelPrefix = "model.";

// Detects the format from the content (zip magic, safetensors header, segtune checkpoint) and
// loads every tensor to CPU. Throws FormatError naming the file and what was wrong (not a
// checkpoint, truncated, unsupported pickle opcode ...), never crashes; IoError if unreadable.
//  - .pth (torch.save zip): a state dict, or a checkpoint dict wrapping one under "model",
//    "state_dict" or "model_state_dict"; metadata["segtune.state_dict_key"] names the key used.
//  - .safetensors: every tensor, metadata = __metadata__.
//  - segtune checkpoint: only the "model." tensors, with the prefix stripped; metadata = __metadata__.
NamedTensors LoadWeights(const std::filesystem::path& path);
// LoadWeights on a thread of its own, for reading the file while the caller builds the model (a fresh
// model's random initialisation and a cold file's reads take 0.05-0.25 s each). get() rethrows.
std::future<NamedTensors> LoadWeightsInBackground(const std::filesystem::path& path);
// As LoadWeights, but a .pth file's tensors are meta tensors (names, dtypes, shapes, no data): what
// `weights info` needs, without inflating or copying tensor data.
NamedTensors LoadWeightShapes(const std::filesystem::path& path);

// True if the metadata marks a segtune checkpoint.
bool IsSegtuneCheckpoint(const NamedTensors& tensors);
// The "model." tensors of a checkpoint with the prefix stripped (metadata copied).
NamedTensors ModelTensorsOfCheckpoint(const NamedTensors& checkpoint);

// Writes a .safetensors file atomically, tensors sorted as the reference writer does.
void SaveSafetensors(const NamedTensors& tensors, const std::filesystem::path& path);
// Writes a .pth zip archive that torch.load reads as an OrderedDict state_dict.
void SavePth(const NamedTensors& tensors, const std::filesystem::path& path);

// A table of every tensor (name, dtype, shape) followed by the tensor count, the total number of
// elements ("parameters", buffers included) and the metadata.
std::string DescribeWeights(const NamedTensors& tensors);

// Loads `in` (anything LoadWeights reads; a checkpoint gives its model tensors) and writes `out`
// as .safetensors or .pth/.pt, chosen by `out`'s extension. Metadata is kept in .safetensors output,
// except the checkpoint marker. Throws UsageError for another extension, and (before loading) when
// `out` exists unless `overwrite` is set and LooksLikeWeightsFile(out) (core/output_guard.h).
void ConvertWeights(const std::filesystem::path& in, const std::filesystem::path& out, bool overwrite = false);

// True if the file is a .pth zip whose state dict reads (shapes only: nothing inflated) or starts
// with a safetensors header that parses: what `weights convert --overwrite` may replace. Never throws.
bool LooksLikeWeightsFile(const std::filesystem::path& path);

}  // namespace segtune
