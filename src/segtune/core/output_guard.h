// Outputs the user named that already exist. The rule (docs/security.md): an existing output is
// never deleted or replaced unless the user passes --overwrite, and even then only when it is
// recognisably a previous segtune output of the same kind; anything else (a dataset folder, a file
// where a directory goes) is refused whatever the flags.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace segtune {

struct OutputKind {
  std::string verb;     // "export": prefixes the message.
  std::string option;   // "--output-dir": what to change.
  std::string noun;     // "segtune export": what a previous output is called.
  // Files that mark a previous output of this kind (any one of them is enough), e.g. {"model.json"}.
  std::vector<std::string> markers;
};

// Returns normally if `dir` may be written as a new output directory: it does not exist, it is an
// empty directory, or `overwrite` is set and it holds one of kind.markers. Otherwise throws
// UsageError saying which case it is and what to do (another path, or --overwrite).
void CheckOutputDirectory(const std::filesystem::path& dir, bool overwrite, const OutputKind& kind);

// Returns normally if `file` may be written: it does not exist, or `overwrite` is set, it is a
// regular file and `is_previous_output(file)` says it is one of ours. Otherwise throws UsageError.
void CheckOutputFile(const std::filesystem::path& file, bool overwrite, const OutputKind& kind,
                     const std::function<bool(const std::filesystem::path&)>& is_previous_output);

// For a directory a verb writes files into by name (infer --masks-dir, records export --images-dir):
// returns normally if `dir` does not exist or is empty, or if `overwrite` is set and it holds only
// regular files whose extension is one of `extensions` (a previous run's). Same-named files would be
// replaced, so anything else throws UsageError.
void CheckOutputFilesDirectory(const std::filesystem::path& dir, bool overwrite, const OutputKind& kind,
                               const std::vector<std::string>& extensions);

// True if the file's first non-blank byte is `first` ('[' for a JSON array, '{' for an object).
bool FileStartsWith(const std::filesystem::path& path, char first);

}  // namespace segtune
