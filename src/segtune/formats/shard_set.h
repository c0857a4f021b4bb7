// The files of one TFRecord output "PREFIX" on disk: its shard sets (PREFIX-NNNNN-of-NNNNN) and
// leftovers of interrupted writes. A rerun with another shard count must not leave the old set
// next to the new one, and a glob must not read both (nor a half-written temporary).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace segtune {

// Every existing "PREFIX-NNNNN-of-NNNNN" file, whatever the count, sorted.
std::vector<std::filesystem::path> ExistingShards(const std::string& prefix);

// True for an empty file or one whose first 12 bytes are a TFRecord header with a valid length CRC
// (uncompressed; what segtune writes). Never throws.
bool LooksLikeTFRecord(const std::filesystem::path& path);

// True for the name of a temporary file segtune was writing when it was killed (SIGKILL, power
// loss): "<name>.tmp-<pid>-<n>" (core/atomic_file.h), or a directory set aside "<name>.tmp-<pid>-<n>.old".
bool IsStaleTempName(const std::string& filename);

// Throws IoError naming `item` (what the user passed) if `paths` hold shards of one prefix from two
// different sets ("-of-00002" and "-of-00004"): reading both would silently duplicate examples.
void CheckShardSets(const std::vector<std::filesystem::path>& paths, const std::string& item);

}  // namespace segtune
