// Shared by the models test files: torchvision reference files generated once per test binary by
// tests/models/reference/make_segmentation_reference.py, and helpers to load them.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune::testing {

// Every registry model is generated with 5 classes (aux head where supported), a 64x64 input.
constexpr int64_t kReferenceClasses = 5;

// The models whose torchvision-zoo-shaped checkpoint (21 classes, aux head where supported, random
// weights) is generated as <name>.21.pth for the transfer surgery test.
inline const std::vector<std::string>& ZooShapedReferenceModels() {
  static const std::vector<std::string> names{"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"};
  return names;
}

// The directory holding <name>.pth, <name>.safetensors (the same tensors), <name>.ref.pt for every
// model and <name>.21.pth for ZooShapedReferenceModels(). Generated
// on first use (one Python run for all models), in /dev/shm when available: the ResNet-101 state
// dicts are ~240 MB each.
class ReferenceFiles {
 public:
  static const ReferenceFiles& Get() {
    static ReferenceFiles files;
    return files;
  }
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& error() const { return error_; }  // Empty when generation succeeded.
  std::filesystem::path Path(const std::string& model, const std::string& ext) const { return dir_ / (model + ext); }

  ~ReferenceFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  ReferenceFiles() {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path().string();
    std::string tmpl = base + "/segtune-models-ref-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    std::string models, zoo_shaped;
    for (const auto& info : ListSemanticModels()) models += (models.empty() ? "" : ",") + info.name;
    for (const auto& name : ZooShapedReferenceModels()) zoo_shaped += (zoo_shaped.empty() ? "" : ",") + name;
    const CommandResult result =
        RunPython(SourcePath("tests/models/reference/make_segmentation_reference.py") + " '" + dir_.string() +
                  "' --models " + models + " --safetensors " + models + " --zoo-shaped " + zoo_shaped);
    if (result.exit_code != 0) error_ = "reference generation failed:\n" + result.output;
  }
  std::filesystem::path dir_;
  std::string error_;
};

// The reference tensors of <name>.ref.pt (a plain dict saved by torch.save).
inline std::map<std::string, torch::Tensor> LoadReferenceTensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const c10::IValue value = torch::pickle_load(bytes);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& entry : value.toGenericDict()) tensors[entry.key().toStringRef()] = entry.value().toTensor();
  return tensors;
}

// Every parameter and buffer of the model by name.
inline std::map<std::string, torch::Tensor> ModelTensors(torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : model.named_parameters()) tensors[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) tensors[b.key()] = b.value();
  return tensors;
}

// Copies `weights` into the model; returns "" if every name and shape matched exactly both ways,
// else a description of the mismatches (missing / unexpected / shape).
inline std::string CopyExactly(torch::nn::Module& model, const NamedTensors& weights) {
  std::map<std::string, torch::Tensor> mine = ModelTensors(model);
  std::string problems;
  torch::NoGradGuard no_grad;
  for (const auto& [key, tensor] : weights.items) {
    auto it = mine.find(key);
    if (it == mine.end()) {
      problems += "unexpected " + key + "\n";
      continue;
    }
    if (it->second.sizes() != tensor.sizes()) {
      problems += "shape " + key + ": " + c10::str(it->second.sizes()) + " vs " + c10::str(tensor.sizes()) + "\n";
    } else {
      it->second.copy_(tensor);
    }
    mine.erase(it);
  }
  for (const auto& [key, tensor] : mine) problems += "missing " + key + "\n";
  return problems;
}

inline double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace segtune::testing
