// The torch side of torch.save zip archives (`.pth` / `.pt`, docs/formats.md §7): the container,
// unpickler and every check are formats/pth_zip.h; this makes torch tensors of its tensor records.
// segtune does not use libtorch's unpickler, which cannot read an OrderedDict state_dict.
#pragma once

#include <filesystem>

#include "segtune/formats/pth_zip.h"
#include "segtune/models/weights.h"

namespace segtune {

// Loads every tensor of a torch.save'd state dict (what ReadPthStateDict accepts, with its checks
// and errors), copied out contiguous to CPU, in file order; views of one storage share nothing.
// shapes_only: tensors are meta tensors (names, dtypes, shapes; no data inflated or copied).
// Throws IoError if the file cannot be read, FormatError naming the file and what was wrong.
NamedTensors ReadPth(const std::filesystem::path& path, bool shapes_only = false);

}  // namespace segtune
