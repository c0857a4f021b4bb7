#include "segtune/export/bundle.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/weights.h"

namespace segtune {

NamedTensors StateDictOf(torch::nn::Module& model) {
  NamedTensors tensors;
  for (const auto& p : model.named_parameters()) tensors.items.emplace_back(p.key(), p.value().detach().contiguous());
  for (const auto& b : model.named_buffers()) tensors.items.emplace_back(b.key(), b.value().detach().contiguous());
  return tensors;
}

void LoadCheckpointForExport(const std::filesystem::path& checkpoint, const std::string& architecture,
                             int64_t num_classes, const std::function<void()>& load) {
  try {
    load();
  } catch (const FormatError& e) {
    throw FormatError(checkpoint, "", "does not fit " + architecture + " with " + std::to_string(num_classes) +
                                          " classes (a checkpoint of another architecture or class count?): " +
                                          e.what());
  }
}

void CommitBundle(AtomicDirectory& out, torch::nn::Module& model, const std::string& model_json,
                  const std::filesystem::path& label_map) {
  SaveSafetensors(StateDictOf(model), out.temp_path() / "model.safetensors");
  WriteFileAtomic(out.temp_path() / "model.json", model_json);
  if (!label_map.empty()) WriteFileAtomic(out.temp_path() / "label_map.pbtxt", ReadFile(label_map));
  out.Commit();
}

}  // namespace segtune
