#include "segtune/data/split.h"

#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"

namespace segtune {
namespace {

void CheckFractions(const std::vector<SplitPart>& parts) {
  double sum = 0;
  for (const auto& p : parts) {
    if (p.fraction < 0 || !std::isfinite(p.fraction))
      throw UsageError("split: --" + p.name + " " + std::to_string(p.fraction) + ": expected a fraction in [0, 1]");
    sum += p.fraction;
  }
  if (std::abs(sum - 1.0) > 1e-6)
    throw UsageError("split: fractions sum to " + std::to_string(sum) + "; expected 1 (e.g. --train 0.8 --val 0.1 --test 0.1)");
}

// Fisher-Yates with our own index draw: std::shuffle's algorithm is implementation-defined, and the
// split must be the same with every standard library.
std::vector<size_t> ShuffledOrder(size_t n, uint64_t seed) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (size_t i = n; i > 1; --i) {
    const size_t j = size_t(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

// Image counts per part: cumulative rounding, so counts sum to n and follow the fractions.
std::vector<size_t> PartSizes(size_t n, const std::vector<SplitPart>& parts) {
  std::vector<size_t> sizes;
  double cumulative = 0;
  size_t assigned = 0;
  size_t last_nonzero = 0;
  for (size_t i = 0; i < parts.size(); ++i)
    if (parts[i].fraction > 0) last_nonzero = i;
  for (size_t i = 0; i < parts.size(); ++i) {
    cumulative += parts[i].fraction;
    size_t end = i == last_nonzero ? n : std::min(n, size_t(std::llround(cumulative * double(n))));
    if (i > last_nonzero) end = assigned;
    sizes.push_back(end - std::min(end, assigned));
    assigned = std::max(assigned, end);
  }
  return sizes;
}

std::filesystem::path PartPath(const std::string& prefix, const SplitPart& part) {
  return prefix + "_" + part.name + ".json";
}

}  // namespace

std::vector<CocoDataset> SplitByImage(const CocoDataset& dataset, const std::vector<SplitPart>& parts, uint64_t seed) {
  CheckFractions(parts);
  const std::vector<size_t> order = ShuffledOrder(dataset.images.size(), seed);
  const std::vector<size_t> sizes = PartSizes(dataset.images.size(), parts);
  std::vector<CocoDataset> out(parts.size());
  std::map<std::string, size_t> part_of_image;
  size_t next = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    out[p].info = dataset.info;
    out[p].licenses = dataset.licenses;
    out[p].categories = dataset.categories;
    std::vector<size_t> chosen(order.begin() + long(next), order.begin() + long(next + sizes[p]));
    std::sort(chosen.begin(), chosen.end());  // Keep the input's image order within a part.
    for (size_t i : chosen) {
      out[p].images.push_back(dataset.images[i]);
      part_of_image[dataset.images[i].id.text] = p;
    }
    next += sizes[p];
  }
  for (const CocoAnnotation& a : dataset.annotations) {
    auto it = part_of_image.find(a.image_id.text);
    if (it != part_of_image.end()) out[it->second].annotations.push_back(a);
  }
  return out;
}

std::vector<std::filesystem::path> SplitCocoFile(const SplitOptions& options) {
  CheckSplitOutputs(options);
  return WriteSplit(LoadCoco(options.input), options);
}

void CheckSplitOutputs(const SplitOptions& options) {
  CheckFractions(options.parts);
  // Every part before any is written: a refusal of the last must not leave the first replaced.
  for (const auto& part : options.parts) {
    if (part.fraction <= 0) {
      // Not written, so not removed either (it may be the user's): say it does not belong to this split.
      if (std::filesystem::exists(std::filesystem::symlink_status(PartPath(options.prefix, part))))
        Warn("split: " + PartPath(options.prefix, part).string() + " exists and is not part of this split (" +
             part.name + " fraction 0); it is left as it is");
      continue;
    }
    CheckOutputFile(PartPath(options.prefix, part), options.overwrite, {"split", "--output", "COCO JSON", {}},
                    [](const std::filesystem::path& p) { return FileStartsWith(p, '{'); });
  }
}

std::vector<std::filesystem::path> WriteSplit(const CocoDataset& dataset, const SplitOptions& options) {
  const std::vector<CocoDataset> split = SplitByImage(dataset, options.parts, options.seed);
  std::vector<std::filesystem::path> written;
  size_t orphans = dataset.annotations.size();
  for (size_t p = 0; p < split.size(); ++p) {
    orphans -= split[p].annotations.size();
    if (options.parts[p].fraction <= 0) continue;
    const std::filesystem::path path = PartPath(options.prefix, options.parts[p]);
    SaveCoco(split[p], path);
    written.push_back(path);
    Info("split: " + options.parts[p].name + ": " + WithCommas((long long)split[p].images.size()) + " images, " +
         WithCommas((long long)split[p].annotations.size()) + " annotations -> " + path.string());
  }
  if (orphans > 0)
    Warn("split: " + WithCommas((long long)orphans) + " annotations refer to no image of " +
         options.input.string() + " and were left out (run `segtune validate`)");
  return written;
}

}  // namespace segtune
