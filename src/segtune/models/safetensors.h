// The .safetensors format (docs/formats.md §6): u64 LE header length N, N bytes of JSON, then the raw
// little-endian, C-order tensor data. Reading validates the file the way the reference reader does.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "segtune/models/weights.h"

namespace segtune {

// True if `head` (at least the first 9 bytes of a file of `file_size` bytes) starts like a
// safetensors file: a plausible header length followed by '{'.
bool LooksLikeSafetensors(std::string_view head, uint64_t file_size);

// Parses a whole safetensors file held in memory. Tensors come back in data (offset) order, copied
// to CPU; `__metadata__` goes to NamedTensors::metadata. `path` only names the file in errors.
// Throws FormatError naming the tensor and what was wrong for: header length > 100,000,000 or past
// the end, invalid JSON, duplicate names, unknown dtype or one libtorch 1.13 lacks (U16, U32, U64,
// F8_*), negative or non-integer shape, data_offsets that are not contiguous from 0, a size that is
// not prod(shape) * sizeof(dtype), or a buffer whose end is not the end of the file.
NamedTensors ParseSafetensors(std::string_view bytes, const std::filesystem::path& path);
// Reads and parses a file. Throws IoError if it cannot be read.
NamedTensors ReadSafetensors(const std::filesystem::path& path);

// The bytes of a safetensors file holding `tensors` (any device, dtype, layout: written contiguous)
// laid out as the reference writer does: sorted by dtype (descending, in the reference's dtype
// order, which puts wider types first) then name, the JSON header starting with "__metadata__" (if
// any) and padded with spaces to a multiple of 8. Throws FormatError for an unsupported dtype and
// UsageError for duplicate names.
std::string SerializeSafetensors(const NamedTensors& tensors);

// The safetensors dtype name ("F32", "I64", ...) of a torch dtype; "" if it has none.
std::string SafetensorsDtypeName(torch::Dtype dtype);

}  // namespace segtune
