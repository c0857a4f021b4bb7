#include "segtune/data/epoch_order.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

#include "segtune/core/error.h"

namespace segtune {

uint64_t MixSeed(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

EpochOrder::EpochOrder(int64_t size, uint64_t seed, bool shuffle) : size_(size), seed_(seed), shuffle_(shuffle) {}

size_t EpochOrder::RecordAt(int64_t position) const {
  const int64_t epoch = position / size_, i = position % size_;
  if (!shuffle_) return static_cast<size_t>(i);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = permutations_.find(epoch);
  if (it == permutations_.end()) {
    // Fisher-Yates with mt19937_64 seeded from (seed, epoch): the same order on every machine.
    std::vector<uint32_t> order(static_cast<size_t>(size_));
    std::iota(order.begin(), order.end(), 0u);
    std::mt19937_64 rng(MixSeed(seed_ * 1000003ull + static_cast<uint64_t>(epoch)));
    for (int64_t k = size_ - 1; k > 0; --k) std::swap(order[k], order[rng() % static_cast<uint64_t>(k + 1)]);
    if (permutations_.size() > 4) permutations_.erase(permutations_.begin());
    it = permutations_.emplace(epoch, std::move(order)).first;
  }
  return it->second[static_cast<size_t>(i)];
}

int64_t BatchesPerEpoch(int64_t records, int64_t batch_size, bool train) {
  return train ? std::max<int64_t>(1, records / batch_size) : (records + batch_size - 1) / batch_size;
}

std::unique_ptr<EpochOrder> StartEpochOrder(size_t records, const std::vector<std::filesystem::path>& files,
                                            int batch_size, uint64_t seed, bool shuffle) {
  if (records == 0) {
    throw FormatError(files.empty() ? std::filesystem::path("(no input files)") : files.front(), "", "no records to read");
  }
  if (batch_size < 1) throw UsageError("batch size must be >= 1");
  return std::make_unique<EpochOrder>(static_cast<int64_t>(records), seed, shuffle);
}

}  // namespace segtune
