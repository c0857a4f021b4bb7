// EpochOrder: every epoch is a permutation of the records, a function of (seed, epoch) only.
#include "segtune/data/epoch_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace segtune {
namespace {

std::vector<size_t> Epoch(const EpochOrder& order, int64_t size, int64_t epoch) {
  std::vector<size_t> out;
  for (int64_t i = 0; i < size; ++i) out.push_back(order.RecordAt(epoch * size + i));
  return out;
}

TEST(EpochOrder, EachEpochIsAPermutationThatDependsOnlyOnSeedAndEpoch) {
  const int64_t n = 50;
  const EpochOrder order(n, 7, /*shuffle=*/true);
  std::vector<size_t> identity(n);
  std::iota(identity.begin(), identity.end(), 0);
  const std::vector<size_t> e0 = Epoch(order, n, 0), e1 = Epoch(order, n, 1);
  for (const auto& e : {e0, e1}) {
    std::vector<size_t> sorted = e;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, identity);
  }
  EXPECT_NE(e0, identity);
  EXPECT_NE(e0, e1);
  // Asked in another order (as a resumed run or another worker would), by a fresh instance.
  const EpochOrder again(n, 7, true);
  EXPECT_EQ(Epoch(again, n, 1), e1);
  EXPECT_EQ(Epoch(again, n, 0), e0);
  EXPECT_NE(Epoch(EpochOrder(n, 8, true), n, 0), e0);
}

TEST(EpochOrder, WithoutShuffleEveryEpochIsInRecordOrder) {
  const EpochOrder order(5, 7, /*shuffle=*/false);
  EXPECT_EQ(Epoch(order, 5, 3), (std::vector<size_t>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace segtune
