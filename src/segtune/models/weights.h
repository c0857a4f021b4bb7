// Reading and writing model weights: torchvision `.pth` files (torch.save zip archives),
// `.safetensors`, and segtune checkpoints. No Python, no TorchScript.
#pragma once

#include <filesystem>
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

// Detects the format from the content (zip magic, safetensors header, segtune checkpoint) and
// loads every tensor to CPU. Throws FormatError naming the file and what was wrong (not a
// checkpoint, truncated, unsupported pickle opcode ...), never crashes.
NamedTensors LoadWeights(const std::filesystem::path& path);

// Writes a .safetensors file atomically, tensors sorted as the reference writer does.
void SaveSafetensors(const NamedTensors& tensors, const std::filesystem::path& path);
// Writes a .pth zip archive that torch.load reads as an OrderedDict state_dict.
void SavePth(const NamedTensors& tensors, const std::filesystem::path& path);

}  // namespace segtune
