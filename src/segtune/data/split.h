// `segtune split`: a disjoint, reproducible train/val/test split of a COCO dataset by image.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "segtune/formats/coco.h"

namespace segtune {

struct SplitPart {
  std::string name;  // "train", "val", "test".
  double fraction = 0;
};

// Assigns each image to exactly one part: images are shuffled with a seeded mt19937_64 (the same
// seed and input give the same split on every machine) and cut at the cumulative fractions
// (rounded, the last non-empty part takes the remainder). Categories, info and licenses are copied
// to every part; annotations follow their image. Parts are returned in the order given.
// Throws UsageError when a fraction is negative or they do not sum to 1 (within 1e-6).
std::vector<CocoDataset> SplitByImage(const CocoDataset& dataset, const std::vector<SplitPart>& parts,
                                      uint64_t seed);

struct SplitOptions {
  std::filesystem::path input;
  std::string prefix;  // Writes "<prefix>_<name>.json" for every part with a fraction > 0.
  std::vector<SplitPart> parts;
  uint64_t seed = 0;
  bool overwrite = false;  // Replace existing part files that are JSON objects (core/output_guard.h).
};

// Checks every part file it will write (CheckOutputFile: an existing one is replaced only with
// overwrite, and only when it is a JSON object) before reading anything, then loads, splits and
// writes the parts atomically; returns the paths written. Prints counts per part.
std::vector<std::filesystem::path> SplitCocoFile(const SplitOptions& options);

// SplitCocoFile's two halves, for callers that read the dataset themselves (split --from, which
// reads other annotation formats in the plugin): the checks of every part file, made before reading;
// then the split of `dataset` (options.input only names it in messages) and the writing.
void CheckSplitOutputs(const SplitOptions& options);
std::vector<std::filesystem::path> WriteSplit(const CocoDataset& dataset, const SplitOptions& options);

}  // namespace segtune
