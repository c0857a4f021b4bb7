// torch.save zip archives (`.pth` / `.pt` written by PyTorch >= 1.6; docs/formats.md §7), read
// without LibTorch: the zip container (formats/zip_reader.h), its data.pkl (formats/pickle.h) and
// data/<key> storage records, down to a state dict of tensor records. models/pth_reader.h makes
// torch tensors of them.
#pragma once

#include <filesystem>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "segtune/formats/pickle.h"

namespace segtune {

// True if `head` (the first bytes of a file) starts like a zip archive.
bool LooksLikeZip(std::string_view head);
// True if `head` starts like a pre-1.6 (non-zip) torch.save file, which is not supported.
bool LooksLikeLegacyTorchSave(std::string_view head);

// The raw bytes of one storage record (data/<key>): at least numel * ElementSize(dtype) bytes.
struct PthStorageBytes {
  TensorDtype dtype = TensorDtype::kF32;
  int64_t numel = 0;
  std::string_view bytes;  // Empty when read with shapes_only.
};

// The state dict of a torch.save archive: tensor records (views of storages) in file order, and
// the storages they view by key. Views into the archive's bytes (stored records) or into
// `inflated` (deflated ones): the archive's bytes must outlive it.
struct PthStateDict {
  std::vector<std::pair<std::string, PickleTensor>> tensors;
  std::map<std::string, PthStorageBytes> storages;
  std::map<std::string, std::string> metadata;  // "segtune.state_dict_key" when unwrapped from a checkpoint.
  std::list<std::string> inflated;              // Owns the bytes of deflated records (stable addresses).
};

// Reads the state dict of a torch.save archive held in `bytes`. Accepts a plain dict/OrderedDict of
// tensors, or a checkpoint dict holding one under "model", "state_dict" or "model_state_dict" (the
// key used goes to metadata["segtune.state_dict_key"]). Plain non-tensor entries of the state dict
// (None, numbers, strings, containers) are skipped with a warning; an object of an unknown class
// there is an error (it may be a tensor type this reader does not know). Storages of type Float,
// Double, Half, BFloat16, Long, Int, Short, Char, Byte and Bool are read. All entries sit under one
// top-level folder (named by the first entry), as libtorch's reader requires.
// Limits, checked on the zip directory before anything is inflated: a stored entry holds at most
// the file; deflated entries (torch.save never writes them) may expand to at most 4x the file size
// in total (64 MiB at least); each storage's numel must fit its entry's declared size.
// Every record read is checked against its CRC-32. shapes_only: storage records are not read at
// all (no inflating, no CRC), only their declared sizes checked.
// Throws FormatError naming the file and the record (or "zip", "data.pkl") and what was wrong:
// legacy or non-zip file, corrupt or truncated zip, big-endian archive, missing data.pkl or storage
// record, CRC mismatch, unsupported pickle opcode or storage type, a view outside its storage, no
// tensors. Never crashes.
PthStateDict ReadPthStateDict(std::string_view bytes, const std::filesystem::path& path, bool shapes_only);

}  // namespace segtune
