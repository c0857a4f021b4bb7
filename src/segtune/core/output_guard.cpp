#include "segtune/core/output_guard.h"

#include <algorithm>
#include <fstream>

#include "segtune/core/error.h"

namespace fs = std::filesystem;

namespace segtune {
namespace {

std::string MarkerList(const std::vector<std::string>& markers) {
  std::string text;
  for (size_t i = 0; i < markers.size(); ++i) text += (i ? (i + 1 == markers.size() ? " or " : ", ") : "") + markers[i];
  return text;
}

}  // namespace

void CheckOutputDirectory(const fs::path& dir, bool overwrite, const OutputKind& kind) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(dir, ec);
  if (!fs::exists(status)) return;
  const std::string head = kind.verb + ": " + dir.string() + ": ";
  if (!fs::is_directory(status)) {
    throw UsageError(head + "exists and is not a directory; segtune will not replace it: choose another " +
                     kind.option);
  }
  if (fs::is_empty(dir, ec)) return;
  bool marked = false;
  for (const auto& m : kind.markers) marked = marked || fs::is_regular_file(dir / m, ec);
  if (!marked) {
    throw UsageError(head + "exists and is not a " + kind.noun + " output (no " + MarkerList(kind.markers) +
                     "); segtune will not replace it, even with --overwrite: choose another " + kind.option);
  }
  if (!overwrite) {
    throw UsageError(head + "holds a previous " + kind.noun + " output; pass --overwrite to replace it, or choose "
                     "another " + kind.option);
  }
}

void CheckOutputFile(const fs::path& file, bool overwrite, const OutputKind& kind,
                     const std::function<bool(const fs::path&)>& is_previous_output) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(file, ec);
  if (!fs::exists(status)) return;
  const std::string head = kind.verb + ": " + file.string() + ": ";
  if (!fs::is_regular_file(status) || !is_previous_output(file)) {
    throw UsageError(head + "exists and is not a " + kind.noun + " output; segtune will not replace it, even " +
                     "with --overwrite: choose another " + kind.option);
  }
  if (!overwrite) {
    throw UsageError(head + "exists (a previous " + kind.noun + " output); pass --overwrite to replace it, or " +
                     "choose another " + kind.option);
  }
}

void CheckOutputFilesDirectory(const fs::path& dir, bool overwrite, const OutputKind& kind,
                               const std::vector<std::string>& extensions) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(dir, ec);
  if (dir.empty() || !fs::exists(status)) return;
  const std::string head = kind.verb + ": " + dir.string() + ": ";
  if (!fs::is_directory(status)) {
    throw UsageError(head + "exists and is not a directory; segtune will not replace it: choose another " +
                     kind.option);
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || std::find(extensions.begin(), extensions.end(), ext) == extensions.end()) {
      throw UsageError(head + "holds " + entry.path().filename().string() + ", which is not a previous " + kind.noun +
                       " output; segtune will not write into it, even with --overwrite: choose another " + kind.option);
    }
    if (!overwrite) {
      throw UsageError(head + "holds files of a previous " + kind.noun + " run (" + entry.path().filename().string() +
                       ", ...) that same-named outputs would replace; pass --overwrite, or choose another " +
                       kind.option);
    }
  }
}

bool FileStartsWith(const fs::path& path, char first) {
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c) && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
  }
  return in && c == first;
}

}  // namespace segtune
