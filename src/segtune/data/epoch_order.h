// The order in which training visits records, shared by the segmentation and detection datasets.
//
// Position p (counted from the start of training) falls in epoch e = p / n of n records; epoch e visits
// the records in a permutation drawn from (seed, e) alone, so the record at any position is known
// without replaying the run (what --resume and every data-parallel rank rely on).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace segtune {

// SplitMix64's finalizer: decorrelates nearby seeds (position p and p+1 get unrelated generators).
uint64_t MixSeed(uint64_t x);

class EpochOrder {
 public:
  // `size` records (>= 1); without `shuffle` every epoch is 0, 1, ..., size-1.
  EpochOrder(int64_t size, uint64_t seed, bool shuffle);
  EpochOrder(const EpochOrder&) = delete;
  EpochOrder& operator=(const EpochOrder&) = delete;

  // The record index at `position` (>= 0). Thread-safe; the permutations of the last few epochs
  // are cached.
  size_t RecordAt(int64_t position) const;

 private:
  int64_t size_;
  uint64_t seed_;
  bool shuffle_;
  mutable std::mutex mutex_;
  mutable std::map<int64_t, std::vector<uint32_t>> permutations_;  // Epoch -> order (recent epochs).
};

// Batches in one epoch of `records`: training drops the last partial batch (but runs at least one),
// evaluation keeps it.
int64_t BatchesPerEpoch(int64_t records, int64_t batch_size, bool train);

// What both datasets check once their records are indexed, then their order: FormatError naming
// the first of `files` when there is no record, UsageError for batch_size < 1.
std::unique_ptr<EpochOrder> StartEpochOrder(size_t records, const std::vector<std::filesystem::path>& files,
                                            int batch_size, uint64_t seed, bool shuffle);

}  // namespace segtune
