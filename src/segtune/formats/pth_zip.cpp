#include "segtune/formats/pth_zip.h"

#include <algorithm>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/formats/pth_pickle.h"
#include "segtune/formats/zip_reader.h"

namespace segtune {

bool LooksLikeZip(std::string_view head) { return head.substr(0, 4) == std::string_view("PK\x03\x04", 4); }

bool LooksLikeLegacyTorchSave(std::string_view head) {
  // pickle.dump(MAGIC_NUMBER=0x1950a86a20f9469cfc6c, f, protocol=2): PROTO 2, LONG1 10 bytes.
  return head.substr(0, 4) == std::string_view("\x80\x02\x8a\x0a", 4) &&
         head.substr(4, 10) == std::string_view("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
}

namespace {

// The archive's records by name without the top-level folder ("data.pkl", "data/0"), as libtorch's
// PyTorchStreamReader finds them: the folder is the first entry's, and entries outside it are not
// records of the archive.
class PthArchive {
 public:
  PthArchive(std::string_view bytes, const std::filesystem::path& path) : zip_(bytes, path) {
    const std::string& first = zip_.entries().front().name;
    const size_t slash = first.find('/');
    if (slash == std::string::npos) {
      throw FormatError(path, "zip", "entry '" + first + "' is not in a folder: not a torch.save archive");
    }
    const std::string folder = first.substr(0, slash + 1);
    for (const ZipEntry& e : zip_.entries()) {
      if (e.name.compare(0, folder.size(), folder) == 0) records_[e.name.substr(folder.size())] = &e;
    }
  }

  const ZipEntry* Find(const std::string& record) const {
    auto it = records_.find(record);
    return it == records_.end() ? nullptr : it->second;
  }
  const std::map<std::string, const ZipEntry*>& records() const { return records_; }
  std::string_view Read(const ZipEntry& e, const std::string& record, std::list<std::string>* inflated) const {
    inflated->emplace_back();
    std::string_view content = zip_.Read(e, record, &inflated->back());
    if (inflated->back().empty()) inflated->pop_back();  // Stored: a view of the file, no copy.
    return content;
  }

 private:
  ZipReader zip_;
  std::map<std::string, const ZipEntry*> records_;
};

// torch.save stores every entry uncompressed, so each holds at most the file's bytes. A deflated
// entry is someone else's zip; its declared size is what inflating it would allocate, and a 4.6 MB
// archive can declare gigabytes. Real weights deflate by well under 2x, so more than
// kMaxDeflateExpansion times the file size in total (and more than kMaxDeflateFloor) is refused
// before anything is inflated.
constexpr uint64_t kMaxDeflateExpansion = 4;
constexpr uint64_t kMaxDeflateFloor = 64 << 20;
void CheckDeclaredSizes(const PthArchive& archive, uint64_t file_size, const std::filesystem::path& path) {
  uint64_t inflated = 0;
  for (const auto& [name, e] : archive.records()) {
    if (e->method == 0 && e->uncompressed != e->compressed) {
      throw FormatError(path, name, "stored entry declares " + std::to_string(e->uncompressed) + " bytes but holds " +
                                        std::to_string(e->compressed) + " (corrupt zip directory)");
    }
    if (e->compressed > file_size) {
      throw FormatError(path, name, "entry declares " + std::to_string(e->compressed) + " compressed bytes in a " +
                                        std::to_string(file_size) + "-byte file (corrupt or truncated zip)");
    }
    if (e->method != 0) inflated += std::min<uint64_t>(e->uncompressed, UINT64_MAX - inflated);
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

TensorDtype StorageDtype(const std::string& cls, const std::filesystem::path& path) {
  TensorDtype dtype;
  if (!DtypeOfStorageClass(cls, &dtype)) throw FormatError(path, "data.pkl", "unsupported storage type " + cls);
  return dtype;
}

// Resolves each ('storage', cls, key, location, numel) persistent id to its data/<key> record, once
// per key: views that share a storage share it. With shapes_only the record is not read.
class StorageLoader {
 public:
  StorageLoader(const PthArchive& archive, const std::filesystem::path& path, bool shapes_only, PthStateDict* out)
      : archive_(archive), path_(path), shapes_only_(shapes_only), out_(out) {}

  PickleValuePtr operator()(const PickleValue& pid) {
    using Kind = PickleValue::Kind;
    if (pid.kind != Kind::kTuple || pid.items.size() < 5 || pid.items[0]->kind != Kind::kString ||
        pid.items[0]->text != "storage" || pid.items[1]->kind != Kind::kGlobal ||
        pid.items[2]->kind != Kind::kString || pid.items[4]->kind != Kind::kInt) {
      throw FormatError(path_, "data.pkl", "persistent id is not ('storage', type, key, location, numel)");
    }
    const std::string& key = pid.items[2]->text;
    auto cached = values_.find(key);
    if (cached != values_.end()) return cached->second;
    const TensorDtype dtype = StorageDtype(pid.items[1]->text, path_);
    const int64_t numel = pid.items[4]->integer;
    const std::string record = "data/" + key;
    const ZipEntry* entry = archive_.Find(record);
    if (!entry) throw FormatError(path_, record, "storage record missing from the archive");
    const size_t element = ElementSize(dtype);
    // The pickle's numel against the directory's declared size, before anything is inflated.
    if (numel < 0) throw FormatError(path_, record, "negative element count " + std::to_string(numel));
    if (uint64_t(numel) > entry->uncompressed / element) {
      throw FormatError(path_, record, "declares " + std::to_string(entry->uncompressed) + " bytes, expected " +
                                           std::to_string(numel) + " elements of " + std::to_string(element) + " bytes");
    }
    PthStorageBytes storage{dtype, numel, {}};
    if (!shapes_only_) {
      storage.bytes = archive_.Read(*entry, record, &out_->inflated);
      if (uint64_t(numel) > storage.bytes.size() / element) {
        throw FormatError(path_, record, "holds " + std::to_string(storage.bytes.size()) + " bytes, expected " +
                                             std::to_string(numel) + " elements of " + std::to_string(element) + " bytes");
      }
    }
    out_->storages[key] = storage;
    auto value = PickleValue::Make(Kind::kStorage);
    value->storage = {key, dtype, numel};
    values_[key] = value;
    return value;
  }

 private:
  const PthArchive& archive_;
  const std::filesystem::path& path_;
  bool shapes_only_;
  PthStateDict* out_;
  std::map<std::string, PickleValuePtr> values_;
};

bool HoldsTensors(const PickleValue& dict) {
  for (const auto& [k, v] : dict.entries) {
    if (v->kind == PickleValue::Kind::kTensor) return true;
  }
  return false;
}

// The state dict inside the unpickled object: the object itself, or a checkpoint's "model" entry.
void ExtractStateDict(const PickleValuePtr& root, const std::filesystem::path& path, PthStateDict* out) {
  using Kind = PickleValue::Kind;
  if (root->kind != Kind::kDict) throw FormatError(path, "data.pkl", "holds a " + root->TypeName() + ", expected a state dict");
  const PickleValue* dict = root.get();
  if (!HoldsTensors(*root)) {
    for (const char* key : {"model", "state_dict", "model_state_dict"}) {
      PickleValuePtr inner = root->Get(key);
      if (inner && inner->kind == Kind::kDict && HoldsTensors(*inner)) {
        dict = inner.get();
        out->metadata["segtune.state_dict_key"] = key;
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
    out->tensors.emplace_back(key->text, value->tensor);
  }
  if (out->tensors.empty()) {
    throw FormatError(path, "data.pkl", "no tensors found: expected a state dict, or a checkpoint with one under "
                                        "\"model\", \"state_dict\" or \"model_state_dict\"");
  }
}

void ReadArchive(std::string_view bytes, const std::filesystem::path& path, bool shapes_only, PthStateDict* out) {
  const PthArchive archive(bytes, path);
  CheckDeclaredSizes(archive, bytes.size(), path);
  if (const ZipEntry* order = archive.Find("byteorder")) {
    if (archive.Read(*order, "byteorder", &out->inflated) != "little") {
      throw FormatError(path, "byteorder", "big-endian archives are not supported");
    }
  }
  const ZipEntry* pickle = archive.Find("data.pkl");
  if (!pickle) throw FormatError(path, "data.pkl", "record missing: not a torch.save archive");
  const std::string_view data = archive.Read(*pickle, "data.pkl", &out->inflated);
  StorageLoader loader(archive, path, shapes_only, out);
  const PickleValuePtr root =
      Unpickle(data, [&loader](const PickleValue& pid) { return loader(pid); }, path.string() + ": data.pkl");
  ExtractStateDict(root, path, out);
}

}  // namespace

PthStateDict ReadPthStateDict(std::string_view bytes, const std::filesystem::path& path, bool shapes_only) {
  if (LooksLikeLegacyTorchSave(bytes)) {
    throw FormatError(path, "", "legacy (PyTorch < 1.6, non-zip) torch.save format is not supported; re-save it "
                                "with a newer torch: torch.save(torch.load(f), f2)");
  }
  if (!LooksLikeZip(bytes)) throw FormatError(path, "", "not a zip archive (a torch.save .pth file starts with PK)");
  PthStateDict result;
  try {
    ReadArchive(bytes, path, shapes_only, &result);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // E.g. std::bad_alloc: still an error that names the file.
    throw FormatError(path, "zip", std::string("corrupt or truncated archive: ") + e.what());
  }
  return result;
}

}  // namespace segtune
