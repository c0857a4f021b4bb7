// The torch side of .safetensors files (docs/formats.md §6): the format itself (header parsing,
// validation and layout) is formats/safetensors.h; this builds torch tensors from it and back.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "segtune/formats/safetensors.h"
#include "segtune/models/weights.h"

namespace segtune {

// Parses a whole safetensors file held in memory (every check of ParseSafetensorsContents).
// Tensors come back in data (offset) order, copied to CPU; `__metadata__` goes to
// NamedTensors::metadata. `path` only names the file in errors. Throws FormatError.
NamedTensors ParseSafetensors(std::string_view bytes, const std::filesystem::path& path);
// Reads and parses a file. The tensors share one buffer holding the file (alive while any of them
// is), except tensors whose data is not aligned to their element size, which are copied. Throws
// IoError if it cannot be read.
NamedTensors ReadSafetensors(const std::filesystem::path& path);

// The bytes of a safetensors file holding `tensors` (any device, dtype, layout: written contiguous),
// laid out as PlanSafetensors does. Throws FormatError for an unsupported dtype and UsageError for
// duplicate names.
std::string SerializeSafetensors(const NamedTensors& tensors);

// The safetensors dtype name ("F32", "I64", ...) of a torch dtype; "" if it has none.
std::string SafetensorsDtypeName(torch::Dtype dtype);

}  // namespace segtune
