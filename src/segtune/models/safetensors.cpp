#include "segtune/models/safetensors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeInfo {
  const char* name;
  int rank;  // Position in the reference's Dtype enum; the writer sorts by it, descending.
  size_t size;
  bool has_torch;
  torch::Dtype torch_dtype;
};

// The reference's Dtype enum order (BOOL < U8 < I8 < F8_E5M2 < F8_E4M3 < I16 < U16 < F16 < BF16 <
// I32 < U32 < F32 < F64 < I64 < U64). Types libtorch 1.13 lacks can be recognised but not loaded.
const std::vector<DtypeInfo>& Dtypes() {
  static const std::vector<DtypeInfo> kDtypes = {
      {"BOOL", 0, 1, true, torch::kBool},     {"U8", 1, 1, true, torch::kByte},
      {"I8", 2, 1, true, torch::kChar},       {"F8_E5M2", 3, 1, false, torch::kByte},
      {"F8_E4M3", 4, 1, false, torch::kByte}, {"I16", 5, 2, true, torch::kShort},
      {"U16", 6, 2, false, torch::kShort},    {"F16", 7, 2, true, torch::kHalf},
      {"BF16", 8, 2, true, torch::kBFloat16}, {"I32", 9, 4, true, torch::kInt},
      {"U32", 10, 4, false, torch::kInt},     {"F32", 11, 4, true, torch::kFloat},
      {"F64", 12, 8, true, torch::kDouble},   {"I64", 13, 8, true, torch::kLong},
      {"U64", 14, 8, false, torch::kLong}};
  return kDtypes;
}

const DtypeInfo* FindDtype(const std::string& name) {
  for (const DtypeInfo& d : Dtypes()) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo& InfoOf(torch::Dtype dtype) {
  for (const DtypeInfo& d : Dtypes()) {
    if (d.has_torch && d.torch_dtype == dtype) return d;
  }
  throw FormatError(std::string("safetensors cannot store tensors of dtype ") + c10::toString(dtype));
}

uint64_t ReadU64LE(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  return v;
}

// Parses the header JSON, rejecting duplicate top-level names (nlohmann would keep the last one).
nlohmann::json ParseHeader(std::string_view text, const std::filesystem::path& path) {
  std::set<std::string> names;
  std::string duplicate;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      if (!names.insert(parsed.get<std::string>()).second && duplicate.empty()) duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path, "header", std::string("invalid JSON: ") + e.what());
  }
  if (!duplicate.empty()) throw FormatError(path, "header", "tensor '" + duplicate + "' appears twice");
  if (!header.is_object()) throw FormatError(path, "header", "expected a JSON object");
  return header;
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

Entry ParseEntry(const std::string& name, const nlohmann::json& info, const std::filesystem::path& path) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
    throw FormatError(path, where, "expected an object with dtype, shape and data_offsets");
  }
  Entry entry{name, nullptr, {}, 0, 0};
  if (!info["dtype"].is_string() || !(entry.dtype = FindDtype(info["dtype"].get<std::string>()))) {
    throw FormatError(path, where, "unknown dtype " + info["dtype"].dump());
  }
  if (!entry.dtype->has_torch) {
    throw FormatError(path, where, std::string("dtype ") + entry.dtype->name + " has no libtorch 1.13 equivalent");
  }
  const nlohmann::json& shape = info["shape"];
  if (!shape.is_array()) throw FormatError(path, where, "shape is not an array");
  unsigned __int128 elements = 1;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned()) throw FormatError(path, where, "shape " + shape.dump() + " has a non-integer or negative size");
    const uint64_t d = dim.get<uint64_t>();
    elements *= d;
    if (elements > (unsigned __int128)(1) << 62) throw FormatError(path, where, "shape " + shape.dump() + " is too large");
    entry.shape.push_back(int64_t(d));
  }
  const nlohmann::json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
    throw FormatError(path, where, "data_offsets must be [begin, end]");
  }
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  const unsigned __int128 expected = elements * entry.dtype->size;
  if (entry.end < entry.begin || (unsigned __int128)(entry.end - entry.begin) != expected) {
    throw FormatError(path, where, "data_offsets " + offsets.dump() + " span " +
                                       std::to_string(entry.end < entry.begin ? 0 : entry.end - entry.begin) +
                                       " bytes, expected " + std::to_string(uint64_t(expected)) + " for shape " +
                                       shape.dump() + " of " + entry.dtype->name);
  }
  return entry;
}

void WriteLE64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(char((v >> (8 * i)) & 0xff));
}

// Calls sink with the header and then each tensor's bytes, in file order.
void Serialize(const NamedTensors& tensors, const std::function<void(std::string_view)>& sink) {
  std::vector<const std::pair<std::string, torch::Tensor>*> order;
  std::set<std::string> names;
  for (const auto& item : tensors.items) {
    if (!names.insert(item.first).second) throw UsageError("safetensors: tensor name '" + item.first + "' appears twice");
    order.push_back(&item);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const int ra = InfoOf(a->second.scalar_type()).rank, rb = InfoOf(b->second.scalar_type()).rank;
    return ra != rb ? ra > rb : a->first < b->first;
  });
  std::string json = "{";
  if (!tensors.metadata.empty()) {
    json += "\"__metadata__\":" + nlohmann::json(tensors.metadata).dump();
  }
  uint64_t offset = 0;
  for (const auto* item : order) {
    const DtypeInfo& dtype = InfoOf(item->second.scalar_type());
    const uint64_t bytes = uint64_t(item->second.numel()) * dtype.size;
    if (json.size() > 1) json += ",";
    json += nlohmann::json(item->first).dump() + ":{\"dtype\":\"" + dtype.name + "\",\"shape\":" +
            nlohmann::json(item->second.sizes().vec()).dump() + ",\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string head;
  WriteLE64(json.size(), &head);
  sink(head);
  sink(json);
  for (const auto* item : order) {
    const torch::Tensor t = item->second.detach().to(torch::kCPU).contiguous();
    sink(std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes()));
  }
}

}  // namespace

bool LooksLikeSafetensors(std::string_view head, uint64_t file_size) {
  if (head.size() < 9 || file_size < 10) return false;
  const uint64_t n = ReadU64LE(head);
  return n >= 2 && n <= kMaxHeaderBytes && n <= file_size - 8 && head[8] == '{';
}

NamedTensors ParseSafetensors(std::string_view bytes, const std::filesystem::path& path) {
  if (bytes.size() < 8) throw FormatError(path, "", "file is " + std::to_string(bytes.size()) + " bytes, too short for a safetensors header");
  const uint64_t n = ReadU64LE(bytes);
  if (n > kMaxHeaderBytes) throw FormatError(path, "header", "length " + std::to_string(n) + " exceeds 100,000,000");
  if (n > bytes.size() - 8) throw FormatError(path, "header", "length " + std::to_string(n) + " runs past the end of the file (truncated?)");
  const std::string_view text = bytes.substr(8, n);
  if (text.empty() || text[0] != '{') throw FormatError(path, "header", "does not start with '{'");
  const nlohmann::json header = ParseHeader(text, path);
  NamedTensors result;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw FormatError(path, "__metadata__", "expected an object of strings");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) throw FormatError(path, "__metadata__", "value of '" + key + "' is not a string");
        result.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    entries.push_back(ParseEntry(name, info, path));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const uint64_t buffer_size = bytes.size() - 8 - n;
  uint64_t expected = 0;
  for (const Entry& e : entries) {
    if (e.begin != expected) {
      throw FormatError(path, "tensor '" + e.name + "'", "data starts at " + std::to_string(e.begin) + ", expected " +
                                                           std::to_string(expected) + " (data must be contiguous, no gaps or overlaps)");
    }
    expected = e.end;
  }
  if (expected != buffer_size) {
    throw FormatError(path, "data", "tensors cover " + std::to_string(expected) + " bytes but the file holds " +
                                        std::to_string(buffer_size) + " (truncated or trailing bytes)");
  }
  const char* buffer = bytes.data() + 8 + n;
  for (const Entry& e : entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->torch_dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), buffer + e.begin, e.end - e.begin);
    result.items.emplace_back(e.name, std::move(t));
  }
  return result;
}

NamedTensors ReadSafetensors(const std::filesystem::path& path) { return ParseSafetensors(ReadFile(path), path); }

std::string SerializeSafetensors(const NamedTensors& tensors) {
  std::string out;
  Serialize(tensors, [&out](std::string_view bytes) { out.append(bytes); });
  return out;
}

void SaveSafetensors(const NamedTensors& tensors, const std::filesystem::path& path) {
  AtomicFile file(path);
  Serialize(tensors, [&file](std::string_view bytes) { file.Write(bytes); });
  file.Commit();
}

std::string SafetensorsDtypeName(torch::Dtype dtype) {
  for (const DtypeInfo& d : Dtypes()) {
    if (d.has_torch && d.torch_dtype == dtype) return d.name;
  }
  return "";
}

}  // namespace segtune
