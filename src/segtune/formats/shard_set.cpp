#include "segtune/formats/shard_set.h"

#include <glob.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "segtune/core/error.h"
#include "segtune/formats/crc32c.h"

namespace fs = std::filesystem;

namespace segtune {
namespace {

const std::regex& ShardPattern() {
  static const std::regex pattern("(.*)-([0-9]{5})-of-([0-9]{5})");
  return pattern;
}

}  // namespace

std::vector<fs::path> ExistingShards(const std::string& prefix) {
  std::vector<fs::path> out;
  glob_t g{};
  const std::string pattern = prefix + "-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]";
  if (::glob(pattern.c_str(), GLOB_NOESCAPE, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

bool LooksLikeTFRecord(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  if (fs::file_size(path, ec) == 0 && !ec) return true;
  std::ifstream in(path, std::ios::binary);
  char header[12];
  if (!in.read(header, sizeof header)) return false;
  uint32_t stored = 0;
  for (int i = 3; i >= 0; --i) stored = (stored << 8) | uint8_t(header[8 + i]);
  return MaskCrc(Crc32cExtend(0, header, 8)) == stored;
}

bool IsStaleTempName(const std::string& filename) {
  static const std::regex pattern(".+\\.tmp-[0-9]+-[0-9]+(\\.old)?");
  return std::regex_match(filename, pattern);
}

void CheckShardSets(const std::vector<fs::path>& paths, const std::string& item) {
  std::map<std::string, std::map<int, std::set<int>>> sets;  // prefix -> count -> indices present.
  for (const auto& p : paths) {
    std::smatch m;
    const std::string name = p.string();
    if (!std::regex_match(name, m, ShardPattern())) continue;
    sets[m[1]][std::stoi(m[3])].insert(std::stoi(m[2]));
  }
  for (const auto& [prefix, counts] : sets) {
    if (counts.size() > 1) {
      std::string list;
      for (const auto& [n, indices] : counts) list += (list.empty() ? "" : " and ") + std::to_string(indices.size()) +
                                                     " of " + std::to_string(n);
      throw IoError(item + ": matches two shard sets of " + prefix + " (" + list +
                    " shards): one is left from an earlier run and reading both would duplicate examples; delete "
                    "the stale set (coco2tfrecord --overwrite removes it)");
    }
  }
}

}  // namespace segtune
