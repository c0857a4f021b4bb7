#include "segtune/models/pth_reader.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <zlib.h>

#include <cstring>
#include <map>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/models/pickle.h"

namespace segtune {

bool LooksLikeZip(std::string_view head) { return head.substr(0, 4) == std::string_view("PK\x03\x04", 4); }

bool LooksLikeLegacyTorchSave(std::string_view head) {
  // pickle.dump(MAGIC_NUMBER=0x1950a86a20f9469cfc6c, f, protocol=2): PROTO 2, LONG1 10 bytes.
  return head.substr(0, 4) == std::string_view("\x80\x02\x8a\x0a", 4) &&
         head.substr(4, 10) == std::string_view("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
}

namespace {

// Serves the zip reader from memory; reads past the end return fewer bytes (miniz reports that as
// a corrupt archive) instead of reading out of bounds.
class BoundedReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedReadAdapter(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    const size_t available = std::min<uint64_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, available);
    return available;
  }

 private:
  const std::string& bytes_;
};

uint32_t U32At(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 | uint32_t(uint8_t(b[at + 2])) << 16 |
         uint32_t(uint8_t(b[at + 3])) << 24;
}
uint16_t U16At(const std::string& b, size_t at) { return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8); }

// One entry of the zip's central directory, keyed by its name without the top directory ("data/0").
struct ZipEntry {
  uint32_t crc = 0;
  uint16_t method = 0;  // 0 stored, 8 deflate.
  uint64_t compressed = 0, uncompressed = 0;
};

// The central directory's entries. libtorch's zip reader is built without CRC checks, so a flipped
// byte in a storage would otherwise load as silently wrong weights; and the declared sizes are what
// the reader would allocate and inflate, checked here first (CheckDeclaredSizes). Empty for zip64 or
// unparsable archives (the zip reader then reports the damage itself, or the checks are skipped).
std::map<std::string, ZipEntry> CentralDirectory(const std::string& b) {
  std::map<std::string, ZipEntry> entries;
  if (b.size() < 22) return entries;
  size_t eocd = std::string::npos;
  for (size_t at = b.size() - 22 + 1; at-- > 0 && b.size() - at <= 22 + 65535;) {
    if (U32At(b, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string::npos) return entries;
  const size_t count = U16At(b, eocd + 10);
  size_t at = U32At(b, eocd + 16);
  if (U32At(b, eocd + 16) == 0xffffffffu) return entries;  // zip64: sizes and offsets live elsewhere.
  for (size_t i = 0; i < count; ++i) {
    if (at + 46 > b.size() || U32At(b, at) != 0x02014b50) return {};
    const size_t name_len = U16At(b, at + 28), extra_len = U16At(b, at + 30), comment_len = U16At(b, at + 32);
    if (at + 46 + name_len > b.size()) return {};
    const std::string name = b.substr(at + 46, name_len);
    const size_t slash = name.find('/');
    ZipEntry& e = entries[slash == std::string::npos ? name : name.substr(slash + 1)];
    e.method = U16At(b, at + 10);
    e.crc = U32At(b, at + 16);
    e.compressed = U32At(b, at + 20);
    e.uncompressed = U32At(b, at + 24);
    at += 46 + name_len + extra_len + comment_len;
  }
  return entries;
}

// torch.save stores every entry uncompressed, so each holds at most the file's bytes. A deflated
// entry is someone else's zip; its declared size is what inflating it would allocate, and a 4.6 MB
// archive can declare gigabytes. Real weights deflate by well under 2x, so more than
// kMaxDeflateExpansion times the file size in total (and more than kMaxDeflateFloor) is refused
// before anything is inflated.
constexpr uint64_t kMaxDeflateExpansion = 4;
constexpr uint64_t kMaxDeflateFloor = 64 << 20;
void CheckDeclaredSizes(const std::map<std::string, ZipEntry>& entries, uint64_t file_size,
                        const std::filesystem::path& path) {
  uint64_t inflated = 0;
  for (const auto& [name, e] : entries) {
    if (e.method == 0 && e.uncompressed != e.compressed) {
      throw FormatError(path, name, "stored entry declares " + std::to_string(e.uncompressed) + " bytes but holds " +
                                        std::to_string(e.compressed) + " (corrupt zip directory)");
    }
    if (e.compressed > file_size) {
      throw FormatError(path, name, "entry declares " + std::to_string(e.compressed) + " compressed bytes in a " +
                                        std::to_string(file_size) + "-byte file (corrupt or truncated zip)");
    }
    if (e.method != 0) inflated += e.uncompressed;
  }
  const uint64_t limit = std::max(kMaxDeflateFloor, kMaxDeflateExpansion * file_size);
  if (inflated > limit) {
    throw FormatError(path, "zip",
                      "compressed entries declare " + std::to_string(inflated) + " bytes once inflated, from a " +
                          std::to_string(file_size) + "-byte file (the limit is " + std::to_string(kMaxDeflateExpansion) +
                          "x the file size, at least " + std::to_string(kMaxDeflateFloor) +
                          " bytes): a decompression bomb? torch.save stores tensors uncompressed; re-save trusted "
                          "weights with torch.save (no option raises this limit)");
  }
}

void CheckCrc(const std::map<std::string, ZipEntry>& entries, const std::string& record, const void* data, size_t size,
              const std::filesystem::path& path) {
  auto it = entries.find(record);
  if (it == entries.end()) return;
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(data);
  for (size_t done = 0; done < size;) {  // zlib takes 32-bit lengths.
    const uInt n = uInt(std::min<size_t>(size - done, 1u << 30));
    crc = crc32(crc, p + done, n);
    done += n;
  }
  if (uint32_t(crc) != it->second.crc) {
    throw FormatError(path, record, "CRC-32 mismatch (file corrupted); download or copy it again");
  }
}

torch::Dtype StorageDtype(const std::string& cls, const std::filesystem::path& path) {
  static const std::map<std::string, torch::Dtype> kTypes = {
      {"torch.FloatStorage", torch::kFloat},   {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},     {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},     {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},   {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},     {"torch.BoolStorage", torch::kBool}};
  auto it = kTypes.find(cls);
  if (it == kTypes.end()) throw FormatError(path, "data.pkl", "unsupported storage type " + cls);
  return it->second;
}

// Reads the zip records behind each ('storage', cls, key, location, numel) persistent id, once per
// key: views that share a storage share the loaded tensor. With shapes_only, storages are meta
// tensors: names, dtypes and shapes come out, and no tensor data is inflated or copied.
class StorageLoader {
 public:
  StorageLoader(caffe2::serialize::PyTorchStreamReader& zip, const std::map<std::string, ZipEntry>& entries,
                const std::filesystem::path& path, bool shapes_only)
      : zip_(zip), entries_(entries), path_(path), shapes_only_(shapes_only) {}

  PickleValuePtr operator()(const PickleValue& pid) {
    using Kind = PickleValue::Kind;
    if (pid.kind != Kind::kTuple || pid.items.size() < 5 || pid.items[0]->kind != Kind::kString ||
        pid.items[0]->text != "storage" || pid.items[1]->kind != Kind::kGlobal ||
        pid.items[2]->kind != Kind::kString || pid.items[4]->kind != Kind::kInt) {
      throw FormatError(path_, "data.pkl", "persistent id is not ('storage', type, key, location, numel)");
    }
    const std::string& key = pid.items[2]->text;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    const torch::Dtype dtype = StorageDtype(pid.items[1]->text, path_);
    const int64_t numel = pid.items[4]->integer;
    const std::string record = "data/" + key;
    if (!zip_.hasRecord(record)) throw FormatError(path_, record, "storage record missing from the archive");
    const size_t element = torch::elementSize(dtype);
    // The pickle's numel against the directory's declared size, before anything is inflated.
    const auto entry = entries_.find(record);
    if (numel < 0) throw FormatError(path_, record, "negative element count " + std::to_string(numel));
    if (entry != entries_.end() && uint64_t(numel) > entry->second.uncompressed / element) {
      throw FormatError(path_, record, "declares " + std::to_string(entry->second.uncompressed) + " bytes, expected " +
                                           std::to_string(numel) + " elements of " + std::to_string(element) + " bytes");
    }
    auto storage = PickleValue::Make(Kind::kTensor);
    if (shapes_only_) {
      storage->tensor = torch::empty({numel}, torch::TensorOptions().dtype(dtype).device(torch::kMeta));
      storages_[key] = storage;
      return storage;
    }
    auto [data, bytes] = zip_.getRecord(record);
    CheckCrc(entries_, record, data.get(), bytes, path_);
    if (uint64_t(numel) > bytes / element) {
      throw FormatError(path_, record, "holds " + std::to_string(bytes) + " bytes, expected " + std::to_string(numel) +
                                           " elements of " + std::to_string(element) + " bytes");
    }
    storage->tensor = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    if (numel) std::memcpy(storage->tensor.data_ptr(), data.get(), size_t(numel) * element);
    storages_[key] = storage;
    return storage;
  }

 private:
  caffe2::serialize::PyTorchStreamReader& zip_;
  const std::map<std::string, ZipEntry>& entries_;
  const std::filesystem::path& path_;
  bool shapes_only_;
  std::map<std::string, PickleValuePtr> storages_;
};

bool HoldsTensors(const PickleValue& dict) {
  for (const auto& [k, v] : dict.entries) {
    if (v->kind == PickleValue::Kind::kTensor) return true;
  }
  return false;
}

// The state dict inside the unpickled object: the object itself, or a checkpoint's "model" entry.
NamedTensors ExtractStateDict(const PickleValuePtr& root, const std::filesystem::path& path) {
  using Kind = PickleValue::Kind;
  if (root->kind != Kind::kDict) throw FormatError(path, "data.pkl", "holds a " + root->TypeName() + ", expected a state dict");
  NamedTensors result;
  const PickleValue* dict = root.get();
  if (!HoldsTensors(*root)) {
    for (const char* key : {"model", "state_dict", "model_state_dict"}) {
      PickleValuePtr inner = root->Get(key);
      if (inner && inner->kind == Kind::kDict && HoldsTensors(*inner)) {
        dict = inner.get();
        result.metadata["segtune.state_dict_key"] = key;
        break;
      }
    }
  }
  for (const auto& [key, value] : dict->entries) {
    if (key->kind != Kind::kString) throw FormatError(path, "data.pkl", "state dict key is a " + key->TypeName() + ", expected str");
    if (value->kind == Kind::kObject) {  // Likely a tensor type this reader does not know: never drop it silently.
      throw FormatError(path, "data.pkl", "'" + key->text + "' is an " + value->TypeName() + ", expected a tensor");
    }
    if (value->kind != Kind::kTensor) {
      Warn(path.string() + ": skipping '" + key->text + "' (a " + value->TypeName() + ", not a tensor)");
      continue;
    }
    result.items.emplace_back(key->text, value->tensor);
  }
  if (result.items.empty()) {
    throw FormatError(path, "data.pkl", "no tensors found: expected a state dict, or a checkpoint with one under "
                                        "\"model\", \"state_dict\" or \"model_state_dict\"");
  }
  return result;
}

NamedTensors ReadZip(const std::string& bytes, const std::filesystem::path& path, bool shapes_only) {
  const std::map<std::string, ZipEntry> entries = CentralDirectory(bytes);
  CheckDeclaredSizes(entries, bytes.size(), path);
  auto adapter = std::make_shared<BoundedReadAdapter>(bytes);
  caffe2::serialize::PyTorchStreamReader zip(adapter);
  if (zip.hasRecord("byteorder")) {
    auto [order, n] = zip.getRecord("byteorder");
    if (std::string(static_cast<const char*>(order.get()), n) != "little") {
      throw FormatError(path, "byteorder", "big-endian archives are not supported");
    }
  }
  if (!zip.hasRecord("data.pkl")) throw FormatError(path, "data.pkl", "record missing: not a torch.save archive");
  auto [pickle, size] = zip.getRecord("data.pkl");
  CheckCrc(entries, "data.pkl", pickle.get(), size, path);
  StorageLoader loader(zip, entries, path, shapes_only);
  PickleValuePtr root = Unpickle(std::string_view(static_cast<const char*>(pickle.get()), size),
                                 [&loader](const PickleValue& pid) { return loader(pid); }, path.string() + ": data.pkl");
  return ExtractStateDict(root, path);
}

}  // namespace

NamedTensors ReadPth(const std::filesystem::path& path, bool shapes_only) {
  const std::string bytes = ReadFile(path);
  if (LooksLikeLegacyTorchSave(bytes)) {
    throw FormatError(path, "", "legacy (PyTorch < 1.6, non-zip) torch.save format is not supported; re-save it "
                                "with a newer torch: torch.save(torch.load(f), f2)");
  }
  if (!LooksLikeZip(bytes)) throw FormatError(path, "", "not a zip archive (a torch.save .pth file starts with PK)");
  try {
    return ReadZip(bytes, path, shapes_only);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    // The zip reader reports corrupt archives with c10::Error; keep its first line only.
    const std::string message = e.what_without_backtrace();
    throw FormatError(path, "zip", "corrupt or truncated archive: " + message.substr(0, message.find('\n')));
  } catch (const std::exception& e) {
    throw FormatError(path, "zip", std::string("corrupt or truncated archive: ") + e.what());
  }
}

}  // namespace segtune
