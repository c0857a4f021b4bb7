#include "segtune/formats/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "segtune/core/error.h"

namespace segtune {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;

uint64_t ReadU64LE(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  return v;
}

void WriteLE64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(char((v >> (8 * i)) & 0xff));
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

// A header entry with its byte range in the data buffer.
struct Entry {
  SafetensorsTensor tensor;
  uint64_t begin, end;
};

Entry ParseEntry(const std::string& name, const nlohmann::json& info, const std::filesystem::path& path) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
    throw FormatError(path, where, "expected an object with dtype, shape and data_offsets");
  }
  Entry entry{{name, TensorDtype::kF32, {}, {}}, 0, 0};
  TensorDtype& dtype = entry.tensor.dtype;
  if (!info["dtype"].is_string() || !DtypeFromSafetensorsName(info["dtype"].get<std::string>(), &dtype)) {
    throw FormatError(path, where, "unknown dtype " + info["dtype"].dump());
  }
  if (!IsLoadable(dtype)) {
    throw FormatError(path, where, std::string("dtype ") + SafetensorsName(dtype) + " has no libtorch 1.13 equivalent");
  }
  const nlohmann::json& shape = info["shape"];
  if (!shape.is_array()) throw FormatError(path, where, "shape is not an array");
  unsigned __int128 elements = 1;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned()) throw FormatError(path, where, "shape " + shape.dump() + " has a non-integer or negative size");
    const uint64_t d = dim.get<uint64_t>();
    elements *= d;
    if (elements > (unsigned __int128)(1) << 62) throw FormatError(path, where, "shape " + shape.dump() + " is too large");
    entry.tensor.shape.push_back(int64_t(d));
  }
  const nlohmann::json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
    throw FormatError(path, where, "data_offsets must be [begin, end]");
  }
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  const unsigned __int128 expected = elements * ElementSize(dtype);
  if (entry.end < entry.begin || (unsigned __int128)(entry.end - entry.begin) != expected) {
    throw FormatError(path, where, "data_offsets " + offsets.dump() + " span " +
                                       std::to_string(entry.end < entry.begin ? 0 : entry.end - entry.begin) +
                                       " bytes, expected " + std::to_string(uint64_t(expected)) + " for shape " +
                                       shape.dump() + " of " + SafetensorsName(dtype));
  }
  return entry;
}

uint64_t ByteSize(const SafetensorsTensor& t) {
  uint64_t n = ElementSize(t.dtype);
  for (int64_t d : t.shape) n *= uint64_t(d);
  return n;
}

}  // namespace

bool LooksLikeSafetensors(std::string_view head, uint64_t file_size) {
  if (head.size() < 9 || file_size < 10) return false;
  const uint64_t n = ReadU64LE(head);
  return n >= 2 && n <= kMaxHeaderBytes && n <= file_size - 8 && head[8] == '{';
}

SafetensorsContents ParseSafetensorsContents(std::string_view bytes, const std::filesystem::path& path) {
  if (bytes.size() < 8) throw FormatError(path, "", "file is " + std::to_string(bytes.size()) + " bytes, too short for a safetensors header");
  const uint64_t n = ReadU64LE(bytes);
  if (n > kMaxHeaderBytes) throw FormatError(path, "header", "length " + std::to_string(n) + " exceeds 100,000,000");
  if (n > bytes.size() - 8) throw FormatError(path, "header", "length " + std::to_string(n) + " runs past the end of the file (truncated?)");
  const std::string_view text = bytes.substr(8, n);
  if (text.empty() || text[0] != '{') throw FormatError(path, "header", "does not start with '{'");
  const nlohmann::json header = ParseHeader(text, path);
  SafetensorsContents result;
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
      throw FormatError(path, "tensor '" + e.tensor.name + "'", "data starts at " + std::to_string(e.begin) + ", expected " +
                                                                  std::to_string(expected) + " (data must be contiguous, no gaps or overlaps)");
    }
    expected = e.end;
  }
  if (expected != buffer_size) {
    throw FormatError(path, "data", "tensors cover " + std::to_string(expected) + " bytes but the file holds " +
                                        std::to_string(buffer_size) + " (truncated or trailing bytes)");
  }
  const std::string_view buffer = bytes.substr(8 + n);
  for (Entry& e : entries) {
    e.tensor.data = buffer.substr(e.begin, e.end - e.begin);
    result.tensors.push_back(std::move(e.tensor));
  }
  return result;
}

SafetensorsLayout PlanSafetensors(const std::vector<SafetensorsTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  SafetensorsLayout layout;
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!names.insert(tensors[i].name).second) {
      throw UsageError("safetensors: tensor name '" + tensors[i].name + "' appears twice");
    }
    layout.order.push_back(i);
  }
  std::stable_sort(layout.order.begin(), layout.order.end(), [&tensors](size_t a, size_t b) {
    const int ra = int(tensors[a].dtype), rb = int(tensors[b].dtype);
    return ra != rb ? ra > rb : tensors[a].name < tensors[b].name;
  });
  std::string json = "{";
  if (!metadata.empty()) json += "\"__metadata__\":" + nlohmann::json(metadata).dump();
  uint64_t offset = 0;
  for (size_t i : layout.order) {
    const SafetensorsTensor& t = tensors[i];
    const uint64_t bytes = ByteSize(t);
    if (json.size() > 1) json += ",";
    json += nlohmann::json(t.name).dump() + ":{\"dtype\":\"" + SafetensorsName(t.dtype) + "\",\"shape\":" +
            nlohmann::json(t.shape).dump() + ",\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');
  WriteLE64(json.size(), &layout.head);
  layout.head += json;
  return layout;
}

}  // namespace segtune
