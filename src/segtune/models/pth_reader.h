// Reads torch.save zip archives (`.pth` / `.pt` written by PyTorch >= 1.6) without libtorch's
// unpickler, which cannot read an OrderedDict state_dict (see docs/formats.md §7).
#pragma once

#include <filesystem>
#include <string_view>

#include "segtune/models/weights.h"

namespace segtune {

// True if `head` (the first bytes of a file) starts like a zip archive.
bool LooksLikeZip(std::string_view head);
// True if `head` starts like a pre-1.6 (non-zip) torch.save file, which is not supported.
bool LooksLikeLegacyTorchSave(std::string_view head);

// Loads every tensor of a torch.save'd state dict, copied out contiguous to CPU, in file order.
// Accepts a plain dict/OrderedDict of tensors, or a checkpoint dict holding one under "model",
// "state_dict" or "model_state_dict" (the key used is returned in metadata["segtune.state_dict_key"]).
// Plain non-tensor entries of the state dict (None, numbers, strings, containers) are skipped with
// a warning; an object of an unknown class there is an error (it may be a tensor type this reader
// does not know). Storages of dtype float, double, half, bfloat16, int64/32/16, int8, uint8 and
// bool are read. Every record's CRC-32 is checked against the zip directory (libtorch's zip reader
// does not), except in zip64 archives (> 4 GiB).
// Throws FormatError naming the file and what was wrong (missing record, unsupported opcode or
// storage type, truncated or corrupt zip, CRC mismatch, view outside its storage, no tensors);
// never crashes. The zip directory's declared sizes are checked before anything is inflated: a stored
// entry holds at most the file, deflated entries (torch.save never writes them) may expand to at
// most 4x the file size in total (64 MiB at least), and each storage's numel must fit its entry.
// shapes_only: tensors are meta tensors (names, dtypes, shapes; no data inflated or copied).
NamedTensors ReadPth(const std::filesystem::path& path, bool shapes_only = false);

}  // namespace segtune
