#include "segtune/data/convert/ade20k_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "segtune/core/error.h"
#include "segtune/formats/byte_order.h"
#include "segtune/formats/pickle.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using Kind = PickleValue::Kind;

// A read-only mapping of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError(path.string() + ": cannot open");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw IoError(path.string() + ": not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (data_ == MAP_FAILED) throw IoError(path.string() + ": cannot map it into memory");
  }
  ~MappedFile() {
    if (data_ != nullptr && data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(data_), data_ == nullptr ? 0 : size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// numpy at protocol 5 pickles arrays of plain types as _frombuffer(data, dtype, shape, order).
bool IsNumpyFromBuffer(const PickleValue& v) {
  return v.kind == Kind::kObject && (v.text == "numpy.core.numeric._frombuffer" || v.text == "numpy._core.numeric._frombuffer");
}

bool IsNumpyReconstruct(const PickleValue& v) {
  return v.kind == Kind::kObject && (v.text == "numpy.core.multiarray._reconstruct" ||
                                     v.text == "numpy._core.multiarray._reconstruct");
}

// A numpy dtype object's type string ("O8", "U21", "<U21" ...), "" if `v` is not one.
std::string DtypeCode(const PickleValue& v) {
  if (v.kind != Kind::kObject || v.text != "numpy.dtype" || v.items.empty() || v.items[0]->kind != Kind::kString) return "";
  return v.items[0]->text;
}

void AppendUtf8(uint32_t c, std::string* out) {
  if (c < 0x80) {
    *out += static_cast<char>(c);
  } else if (c < 0x800) {
    *out += static_cast<char>(0xC0 | (c >> 6));
    *out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    *out += static_cast<char>(0xE0 | (c >> 12));
    *out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (c >> 18));
    *out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

class NamesReader {
 public:
  explicit NamesReader(const fs::path& file) : file_(file) {}

  std::vector<std::string> Read(const PickleValue& names) const {
    if (names.kind == Kind::kList || names.kind == Kind::kTuple) return Strings(names.items, "objectnames");
    if (IsNumpyReconstruct(names)) return FromArray(names);
    if (IsNumpyFromBuffer(names) && names.items.size() >= 3) return FromArrayData(*names.items[2], *names.items[1], *names.items[0]);
    Fail("objectnames is a " + names.TypeName() + ", expected a list of str or a numpy array of str");
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const { throw FormatError(file_, "", what); }

  std::vector<std::string> Strings(const std::vector<PickleValuePtr>& items, const std::string& what) const {
    std::vector<std::string> out;
    out.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i]->kind != Kind::kString) {
        Fail(what + "[" + std::to_string(i) + "] is a " + items[i]->TypeName() + ", expected a str");
      }
      out.push_back(items[i]->text);
    }
    return out;
  }

  // numpy's array pickle: _reconstruct(ndarray, (0,), b'b') then BUILD with (version, shape, dtype,
  // is_fortran, data).
  std::vector<std::string> FromArray(const PickleValue& array) const {
    const PickleValuePtr& state = array.state;
    if (!state || state->kind != Kind::kTuple || state->items.size() != 5) {
      Fail("objectnames is a numpy array without the (version, shape, dtype, fortran, data) state numpy writes");
    }
    return FromArrayData(*state->items[1], *state->items[2], *state->items[4]);
  }

  // data: a list of the objects for dtype object, the raw bytes otherwise.
  std::vector<std::string> FromArrayData(const PickleValue& shape, const PickleValue& dtype_object, const PickleValue& data) const {
    if (shape.kind != Kind::kTuple || shape.items.size() != 1 || shape.items[0]->kind != Kind::kInt) {
      Fail("objectnames is a numpy array that is not 1-D");
    }
    const int64_t count = shape.items[0]->integer;
    const std::string dtype = DtypeCode(dtype_object);
    if (dtype.rfind("O", 0) == 0 && (data.kind == Kind::kList || data.kind == Kind::kTuple)) {
      if (static_cast<int64_t>(data.items.size()) != count) Fail("objectnames: numpy array data does not match its shape");
      return Strings(data.items, "objectnames");
    }
    if (dtype.rfind("U", 0) == 0 && data.kind == Kind::kBytes) return Unicode(dtype, count, data);
    Fail("objectnames is a numpy array of dtype '" + dtype + "' (" + data.TypeName() +
         " data), expected str (dtype object or unicode)");
  }

  // dtype "U<n>": n UTF-32 code units per name, little-endian (numpy's state says "<" for these;
  // segtune reads little-endian files only), padded with zeros.
  std::vector<std::string> Unicode(const std::string& dtype, int64_t count, const PickleValue& data) const {
    const int64_t width = std::atoll(dtype.c_str() + 1);
    if (width <= 0 || count < 0 || data.integer != static_cast<int64_t>(data.text.size()) ||
        static_cast<uint64_t>(data.text.size()) != static_cast<uint64_t>(count) * static_cast<uint64_t>(width) * 4) {
      Fail("objectnames: numpy '" + dtype + "' data of " + std::to_string(data.integer) + " bytes for " +
           std::to_string(count) + " names");
    }
    std::vector<std::string> out(static_cast<size_t>(count));
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.text.data());
    for (int64_t i = 0; i < count; ++i) {
      for (int64_t k = 0; k < width; ++k) {
        const uint32_t c = Le32(bytes + 4 * (i * width + k));
        if (c == 0) break;
        if (c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) Fail("objectnames[" + std::to_string(i) + "]: not a Unicode character");
        AppendUtf8(c, &out[static_cast<size_t>(i)]);
      }
    }
    return out;
  }

  fs::path file_;
};

}  // namespace

fs::path FindAde20kIndex(const fs::path& input) {
  std::error_code ec;
  fs::path dir = fs::absolute(input, ec);
  for (int up = 0; up <= 3 && !dir.empty(); ++up, dir = dir.parent_path()) {
    const fs::path candidate = dir / "index_ade20k.pkl";
    if (fs::is_regular_file(candidate, ec)) return candidate;
    if (dir == dir.root_path()) break;
  }
  return {};
}

std::vector<std::string> LoadAde20kObjectNames(const fs::path& index_file) {
  const MappedFile mapped(index_file);
  UnpickleOptions options;
  options.max_kept_bytes = size_t(64) << 20;  // The names are a few MB at most; the count arrays ~800 MB.
  options.max_values = size_t(4) << 20;       // ~1 GB of values: the real index has ~150,000.
  const PickleValuePtr root = Unpickle(
      mapped.bytes(),
      [&index_file](const PickleValue&) -> PickleValuePtr {
        throw FormatError(index_file, "", "a persistent id (a torch.save file?), expected ADE20K's plain pickle");
      },
      index_file.string(), options);
  if (root->kind != Kind::kDict) throw FormatError(index_file, "", "holds a " + root->TypeName() + ", expected a dict");
  const PickleValuePtr names = root->Get("objectnames");
  if (!names) throw FormatError(index_file, "", "the dict has no \"objectnames\"");
  return NamesReader(index_file).Read(*names);
}

}  // namespace segtune
