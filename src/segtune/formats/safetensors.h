// The .safetensors format (docs/formats.md §6): u64 LE header length N, N bytes of JSON, then the raw
// little-endian, C-order tensor data. This is the file format alone, over raw bytes: tensors are
// described (name, dtype, shape, bytes), never built; models/safetensors.h makes torch tensors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "segtune/formats/tensor_dtype.h"

namespace segtune {

// One tensor of a safetensors file.
struct SafetensorsTensor {
  std::string name;
  TensorDtype dtype = TensorDtype::kF32;
  std::vector<int64_t> shape;
  std::string_view data;  // Parsing: its bytes inside the file's buffer (C order, little-endian).
};

struct SafetensorsContents {
  std::vector<SafetensorsTensor> tensors;        // In data (offset) order.
  std::map<std::string, std::string> metadata;  // `__metadata__`.
};

// True if `head` (at least the first 9 bytes of a file of `file_size` bytes) starts like a
// safetensors file: a plausible header length followed by '{'.
bool LooksLikeSafetensors(std::string_view head, uint64_t file_size);

// Parses and validates a whole safetensors file held in memory; the result's data views point into
// `bytes`, which must outlive it. `path` only names the file in errors.
// Throws FormatError naming the file and the tensor (or "header", "data", "__metadata__") for:
// header length > 100,000,000 or past the end, invalid JSON, duplicate names, unknown dtype or one
// libtorch 1.13 lacks (U16, U32, U64, F8_*), negative or non-integer shape, more than 2^62 elements,
// data_offsets that are not contiguous from 0 (gaps or overlaps), a size that is not
// prod(shape) * sizeof(dtype), or a buffer whose end is not the end of the file.
SafetensorsContents ParseSafetensorsContents(std::string_view bytes, const std::filesystem::path& path);

// What a writer needs, laid out as the reference writer does: tensors sorted by dtype (descending,
// in the reference's dtype order, which puts wider types first) then name, the JSON header starting
// with "__metadata__" (if any) and padded with spaces to a multiple of 8.
struct SafetensorsLayout {
  std::string head;           // The 8-byte length and the header: the file's first bytes.
  std::vector<size_t> order;  // Indices into the tensors given: their data follows `head` in this order.
};
// `tensors`' data is not read (only names, dtypes and shapes). Throws UsageError for duplicate names.
SafetensorsLayout PlanSafetensors(const std::vector<SafetensorsTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata);

}  // namespace segtune
