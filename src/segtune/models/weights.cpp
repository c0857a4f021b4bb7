#include "segtune/models/weights.h"

#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/printable.h"
#include "segtune/models/pth_reader.h"
#include "segtune/models/safetensors.h"

namespace segtune {

const torch::Tensor* NamedTensors::Find(const std::string& name) const {
  for (const auto& [n, t] : items) {
    if (n == name) return &t;
  }
  return nullptr;
}

bool IsSegtuneCheckpoint(const NamedTensors& tensors) {
  auto it = tensors.metadata.find(kCheckpointKindKey);
  return it != tensors.metadata.end() && it->second == kCheckpointKind;
}

NamedTensors ModelTensorsOfCheckpoint(const NamedTensors& checkpoint) {
  NamedTensors model;
  model.metadata = checkpoint.metadata;
  const std::string prefix = kCheckpointModelPrefix;
  for (const auto& [name, tensor] : checkpoint.items) {
    if (name.compare(0, prefix.size(), prefix) == 0) model.items.emplace_back(name.substr(prefix.size()), tensor);
  }
  return model;
}

namespace {

NamedTensors Load(const std::filesystem::path& path, bool shapes_only) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open weights file");
  std::string head(16, '\0');
  in.read(head.data(), head.size());
  head.resize(size_t(in.gcount()));
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (LooksLikeZip(head) || LooksLikeLegacyTorchSave(head)) return ReadPth(path, shapes_only);
  if (LooksLikeSafetensors(head, ec ? 0 : size)) {
    NamedTensors tensors = ReadSafetensors(path);
    if (!IsSegtuneCheckpoint(tensors)) return tensors;
    NamedTensors model = ModelTensorsOfCheckpoint(tensors);
    if (model.items.empty()) {
      throw FormatError(path, "", "segtune checkpoint holds no \"" + std::string(kCheckpointModelPrefix) + "*\" tensors");
    }
    return model;
  }
  throw FormatError(path, "", "not a weights file: expected a torch.save .pth zip archive or a .safetensors file");
}

}  // namespace

NamedTensors LoadWeights(const std::filesystem::path& path) { return Load(path, false); }

std::future<NamedTensors> LoadWeightsInBackground(const std::filesystem::path& path) {
  return std::async(std::launch::async, [path] { return LoadWeights(path); });
}
NamedTensors LoadWeightShapes(const std::filesystem::path& path) { return Load(path, true); }

std::string DescribeWeights(const NamedTensors& tensors) {
  // Names and metadata come from the file: escaped, so a crafted name cannot drive the terminal.
  size_t width = 4;
  for (const auto& item : tensors.items) width = std::max(width, EscapeForTerminal(item.first).size());
  std::ostringstream out;
  out << std::left << std::setw(int(width)) << "name" << "  " << std::setw(5) << "dtype" << "  shape\n";
  long long elements = 0;
  for (const auto& [name, tensor] : tensors.items) {
    std::string shape = "[";
    for (int64_t i = 0; i < tensor.dim(); ++i) shape += (i ? ", " : "") + std::to_string(tensor.size(i));
    out << std::setw(int(width)) << EscapeForTerminal(name) << "  " << std::setw(5) << SafetensorsDtypeName(tensor.scalar_type()) << "  "
        << shape << "]\n";
    elements += tensor.numel();
  }
  out << tensors.items.size() << " tensors, " << WithCommas(elements) << " parameters\n";
  for (const auto& [key, value] : tensors.metadata) {
    out << "metadata " << EscapeForTerminal(key) << " = " << EscapeForTerminal(value) << "\n";
  }
  return out.str();
}

bool LooksLikeWeightsFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(16, '\0');
  in.read(head.data(), head.size());
  head.resize(size_t(in.gcount()));
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return false;
  try {
    if (LooksLikeZip(head)) return !ReadPth(path, /*shapes_only=*/true).items.empty();
    if (!LooksLikeSafetensors(head, size)) return false;
    uint64_t n = 0;  // Little-endian header length, at most 100 MB (LooksLikeSafetensors checked).
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(head[i]);
    std::string header(n, '\0');
    in.clear();
    in.seekg(8);
    in.read(header.data(), std::streamsize(n));
    return uint64_t(in.gcount()) == n && nlohmann::json::parse(header, nullptr, false).is_object();
  } catch (const std::exception&) {
    return false;
  }
}

void ConvertWeights(const std::filesystem::path& in, const std::filesystem::path& out, bool overwrite) {
  const std::string ext = out.extension().string();
  if (ext != ".safetensors" && ext != ".pth" && ext != ".pt") {
    throw UsageError(out.string() + ": unknown output extension '" + ext + "'; use .safetensors, .pth or .pt");
  }
  CheckOutputFile(out, overwrite, {"weights convert", "output file", "weights file", {}}, LooksLikeWeightsFile);
  NamedTensors tensors = LoadWeights(in);
  tensors.metadata.erase(kCheckpointKindKey);  // The output holds only the model: not a checkpoint.
  if (ext == ".safetensors") {
    SaveSafetensors(tensors, out);
  } else {
    SavePth(tensors, out);
  }
  Info("wrote " + std::to_string(tensors.items.size()) + " tensors to " + out.string());
}

}  // namespace segtune
