#include "segtune/export/bundle.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/weights.h"

namespace segtune {

nlohmann::ordered_json ProvenanceToJson(const BundleMetadata& m) {
  return {{"segtune_version", m.segtune_version}, {"checkpoint", m.checkpoint},
          {"checkpoint_step", m.checkpoint_step}, {"config", m.config_path},
          {"config_sha256", m.config_sha256}, {"dataset_records", m.dataset_records}};
}

void ProvenanceFromJson(const nlohmann::json& p, BundleMetadata* m) {
  m->segtune_version = p.value("segtune_version", "");
  m->checkpoint = p.value("checkpoint", "");
  m->checkpoint_step = p.value("checkpoint_step", int64_t{-1});
  m->config_path = p.value("config", "");
  m->config_sha256 = p.value("config_sha256", "");
  m->dataset_records = p.value("dataset_records", std::map<std::string, int64_t>{});
}

std::string BundleKind(const std::filesystem::path& path) {
  const std::filesystem::path dir = std::filesystem::is_directory(path) ? path : path.parent_path();
  const std::filesystem::path json_path = (dir.empty() ? std::filesystem::path(".") : dir) / "model.json";
  if (!std::filesystem::exists(json_path)) return "";
  try {
    const nlohmann::json j = nlohmann::json::parse(ReadFile(json_path));
    return j.is_object() ? j.value("kind", "segmentation") : "segmentation";
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(json_path, "", std::string("not a segtune model.json (") + e.what() + ")");
  }
}

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
