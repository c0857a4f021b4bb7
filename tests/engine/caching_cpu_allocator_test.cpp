// engine/caching_cpu_allocator.h: freed blocks serve the next tensor of the same size, the cache stays
// under its bound, and tensors stay correct and aligned.
#include "segtune/engine/caching_cpu_allocator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace segtune {
namespace {

constexpr int64_t kFloats = 1 << 20;  // 4 MiB: cached (above kMinCachedBytes).

TEST(CachingCpuAllocator, AFreedBlockServesTheNextTensorOfItsSize) {
  InstallCachingCpuAllocator(int64_t{64} << 20);
  const CpuBlockCacheStats before = GetCpuBlockCacheStats();
  const void* first = nullptr;
  {
    const torch::Tensor t = torch::empty({kFloats});
    first = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  EXPECT_GE(GetCpuBlockCacheStats().cached_bytes, kFloats * 4);
  const torch::Tensor again = torch::ones({kFloats});
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(again.sum().item<float>(), static_cast<float>(kFloats));
  const CpuBlockCacheStats after = GetCpuBlockCacheStats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses + 1);
}

TEST(CachingCpuAllocator, CachedBytesNeverExceedTheBound) {
  const int64_t bound = int64_t{10} << 20;
  InstallCachingCpuAllocator(bound);
  for (int64_t size = 1; size <= 8; ++size) {  // 4, 8, ... 32 MiB: more than the bound in total.
    { const torch::Tensor t = torch::empty({size * kFloats}); }
    EXPECT_LE(GetCpuBlockCacheStats().cached_bytes, bound) << size;
  }
  InstallCachingCpuAllocator(0);  // Lowering the bound empties the cache.
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, 0);
  { const torch::Tensor t = torch::empty({kFloats}); }
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, 0);
}

TEST(CachingCpuAllocator, SmallTensorsAndOtherThreadsWork) {
  InstallCachingCpuAllocator(int64_t{64} << 20);
  std::vector<std::thread> threads;
  std::vector<float> sums(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([i, &sums] {
      float sum = 0;
      for (int round = 0; round < 50; ++round) {
        sum += torch::full({kFloats / 4 + round}, 1.0f).sum().item<float>() + torch::full({3}, 1.0f).sum().item<float>();
      }
      sums[i] = sum;
    });
  }
  for (auto& t : threads) t.join();
  float expected = 0;
  for (int round = 0; round < 50; ++round) expected += static_cast<float>(kFloats / 4 + round) + 3.0f;
  for (const float s : sums) EXPECT_EQ(s, expected);
}

}  // namespace
}  // namespace segtune
