#include "segtune/engine/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <sstream>

#include "segtune/core/error.h"
#include "segtune/models/load_state.h"
#include "segtune/models/safetensors.h"
#include "segtune/models/weights.h"

namespace segtune {

namespace {
constexpr const char* kOptimizerKey = "optimizer.archive";
}

std::string CheckpointFileName(int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "ckpt-%06lld.safetensors", static_cast<long long>(step));
  return name;
}

void SaveTrainingCheckpoint(const std::filesystem::path& path, torch::nn::Module& model,
                            torch::optim::Optimizer* optimizer, const CheckpointInfo& info) {
  NamedTensors out;
  out.metadata = info.metadata;
  out.metadata[kCheckpointKindKey] = kCheckpointKind;
  out.metadata["segtune.step"] = std::to_string(info.step);
  for (const auto& p : model.named_parameters(true)) {
    out.items.emplace_back(kCheckpointModelPrefix + p.key(), p.value().detach());
  }
  for (const auto& b : model.named_buffers(true)) out.items.emplace_back(kCheckpointModelPrefix + b.key(), b.value());
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive archive;
    optimizer->save(archive);
    std::ostringstream bytes;
    archive.save_to(bytes);
    const std::string s = bytes.str();
    out.items.emplace_back(kOptimizerKey,
                           torch::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())}, torch::kUInt8)
                               .clone());
  }
  SaveSafetensors(out, path);
}

CheckpointInfo LoadTrainingCheckpoint(const std::filesystem::path& path, torch::nn::Module& model,
                                      torch::optim::Optimizer* optimizer) {
  const NamedTensors all = ReadSafetensors(path);
  if (!IsSegtuneCheckpoint(all)) throw FormatError(path, "", "not a segtune training checkpoint");
  LoadOptions options;
  options.strict = true;
  LoadStateDict(model, ModelTensorsOfCheckpoint(all), options);
  CheckpointInfo info;
  info.metadata = all.metadata;
  const auto step = all.metadata.find("segtune.step");
  if (step == all.metadata.end()) throw FormatError(path, "__metadata__", "no segtune.step entry");
  info.step = std::stoll(step->second);
  if (optimizer != nullptr) {
    const torch::Tensor* archive_bytes = all.Find(kOptimizerKey);
    if (archive_bytes == nullptr) throw FormatError(path, kOptimizerKey, "missing: cannot resume the optimizer");
    const torch::Tensor bytes = archive_bytes->contiguous();
    std::istringstream in(std::string(static_cast<const char*>(bytes.data_ptr()), bytes.numel()));
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    optimizer->load(archive);
  }
  return info;
}

std::vector<std::filesystem::path> ListStepCheckpoints(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  static const std::regex pattern(R"(ckpt-\d+\.safetensors)");
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (std::regex_match(entry.path().filename().string(), pattern)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// "ckpt-000001.safetensors, ckpt-000002.safetensors, best.safetensors" or "no checkpoints".
std::string CheckpointsIn(const std::filesystem::path& dir) {
  std::string list;
  auto all = ListStepCheckpoints(dir);
  if (std::filesystem::exists(dir / "best.safetensors")) all.push_back(dir / "best.safetensors");
  for (const auto& p : all) list += (list.empty() ? "" : ", ") + p.filename().string();
  return list.empty() ? "no segtune checkpoints" : list;
}

}  // namespace

std::filesystem::path ResolveCheckpointPath(const std::filesystem::path& given) {
  std::error_code ec;
  if (std::filesystem::is_directory(given, ec)) {
    throw IoError(given.string() + ": is a directory; pass one of its checkpoints (" + CheckpointsIn(given) + ")");
  }
  if (std::filesystem::exists(given, ec)) return given;
  static const std::regex prefix(R"(ckpt-(\d{1,18})(\.index|\.data-\d+-of-\d+)?)");
  std::smatch m;
  const std::string name = given.filename().string();
  const std::filesystem::path dir = given.has_parent_path() ? given.parent_path() : std::filesystem::path(".");
  if (std::regex_match(name, m, prefix)) {
    const std::filesystem::path file = dir / CheckpointFileName(std::stoll(m[1].str()));
    if (std::filesystem::exists(file, ec)) return file;
  }
  throw IoError(given.string() + ": checkpoint not found (" + dir.string() + " holds " + CheckpointsIn(dir) + ")");
}

void PruneStepCheckpoints(const std::filesystem::path& dir, int keep) {
  auto all = ListStepCheckpoints(dir);
  for (size_t i = 0; i + std::max(1, keep) < all.size(); ++i) std::filesystem::remove(all[i]);
}

}  // namespace segtune
