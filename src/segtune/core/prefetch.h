// Reading files ahead: the kernel is asked (posix_fadvise WILLNEED) to bring a file into the page cache
// while the process does something else. The verbs that load LibTorch ask for their model and inputs
// first: loading the LibTorch plugin takes 0.5-0.9 s of one core, and a model read from a cold cache
// would otherwise start only after it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace segtune {

// Starts reading the first `max_bytes` of the regular file `path` and returns at once. Best effort: a
// missing path, a directory or a refusal does nothing (the real read reports its own errors).
void PrefetchFile(const std::filesystem::path& path, uint64_t max_bytes);

// The files a model argument names (an export directory's model.json and model.safetensors, or the
// file itself), read ahead whole up to 1 GiB each.
void PrefetchModel(const std::filesystem::path& model);

// The first 64 MiB of each of `inputs` that is a regular file (at most 64 of them): records and images
// named on the command line; globs and directories are left to the real read.
void PrefetchInputs(const std::vector<std::string>& inputs);

}  // namespace segtune
