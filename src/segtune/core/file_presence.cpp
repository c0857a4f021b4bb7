#include "segtune/core/file_presence.h"

#include <dirent.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <unordered_set>

#include "segtune/core/parallel_for.h"

namespace segtune {
namespace {

// Below this many paths in one folder, stat()ing each costs less than listing the folder.
constexpr size_t kListAtLeast = 16;

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The folder part of a path as opendir takes it ("" for the current folder, "/" for the root) and its
// last component ("" after a trailing slash).
std::pair<std::string, std::string> SplitFolder(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// A folder's entries as the listing types them: regular files, and the names it cannot type (links,
// DT_UNKNOWN) that need a stat(). False when the folder cannot be listed or holds more than
// `max_entries` entries.
struct Listing {
  std::unordered_set<std::string> regular;
  std::unordered_set<std::string> untyped;
};

bool ListFolder(const std::string& folder, size_t max_entries, Listing* listing) {
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(folder.empty() ? "." : folder.c_str()), ::closedir);
  if (!dir) return false;
  size_t entries = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    if (++entries > max_entries) return false;
    if (entry->d_type == DT_REG) {
      listing->regular.emplace(entry->d_name);
    } else if (entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN) {
      listing->untyped.emplace(entry->d_name);
    }
  }
  return true;
}

}  // namespace

std::vector<char> RegularFilesAmong(const std::vector<std::string>& paths) {
  std::vector<char> present(paths.size(), 0);
  std::vector<std::string> names(paths.size());
  std::unordered_map<std::string, std::vector<size_t>> by_folder;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto [folder, name] = SplitFolder(paths[i]);
    names[i] = std::move(name);
    by_folder[folder].push_back(i);
  }
  std::vector<size_t> to_stat;
  for (const auto& [folder, members] : by_folder) {
    Listing listing;
    if (members.size() < kListAtLeast || !ListFolder(folder, 8 * members.size() + 4096, &listing)) {
      to_stat.insert(to_stat.end(), members.begin(), members.end());
      continue;
    }
    bool confirmed = false;  // A folder that lists but cannot be searched (r-- without x) has no usable files.
    for (const size_t i : members) {
      const std::string& name = names[i];
      const bool listed = listing.regular.count(name) > 0;
      if (name.empty() || name == "." || name == ".." || listing.untyped.count(name)) {
        to_stat.push_back(i);
      } else if (listed && (confirmed || (confirmed = IsRegularFile(paths[i])))) {
        present[i] = 1;
      } else if (listed) {
        to_stat.push_back(i);
      }
    }
  }
  ParallelFor(to_stat.size(), [&](size_t k) { present[to_stat[k]] = IsRegularFile(paths[to_stat[k]]); });
  return present;
}

}  // namespace segtune
