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

TEST(CachingCpuAllocator, ASizeAskedForTwiceIsKeptAndServesTheNextTensor) {
  InstallCachingCpuAllocator(int64_t{64} << 20);
  const int64_t floats = kFloats + 1024;  // A size no other test of this process uses.
  const CpuBlockCacheStats before = GetCpuBlockCacheStats();
  { const torch::Tensor once = torch::empty({floats}); }
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, before.cached_bytes);  // Seen once: freed at once.
  const void* second = nullptr;
  {
    const torch::Tensor t = torch::empty({floats});
    second = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(second) % 64, 0u);
  }
  EXPECT_GE(GetCpuBlockCacheStats().cached_bytes, before.cached_bytes + floats * 4);  // Seen twice: kept.
  const torch::Tensor third = torch::ones({floats});
  EXPECT_EQ(third.data_ptr(), second);
  EXPECT_EQ(third.sum().item<float>(), static_cast<float>(floats));
  const CpuBlockCacheStats after = GetCpuBlockCacheStats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses + 2);
}

TEST(CachingCpuAllocator, SizesSeenOnceAreNeverKept) {
  InstallCachingCpuAllocator(int64_t{1} << 30);
  const int64_t before = GetCpuBlockCacheStats().cached_bytes;
  for (int64_t i = 0; i < 20; ++i) {  // Images of 20 different sizes.
    const torch::Tensor t = torch::empty({kFloats + 4096 * (i + 7)});
  }
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, before);
}

TEST(CachingCpuAllocator, CachedBytesNeverExceedTheBound) {
  const int64_t bound = int64_t{10} << 20;
  InstallCachingCpuAllocator(bound);
  for (int64_t size = 1; size <= 8; ++size) {  // 4, 8, ... 32 MiB (each twice): more than the bound in total.
    { const torch::Tensor t = torch::empty({size * kFloats}); }
    { const torch::Tensor t = torch::empty({size * kFloats}); }
    EXPECT_LE(GetCpuBlockCacheStats().cached_bytes, bound) << size;
  }
  EXPECT_GT(GetCpuBlockCacheStats().cached_bytes, 0);  // The 8 MiB block, kept after the 12 MiB one was refused.
  InstallCachingCpuAllocator(0);  // Lowering the bound empties the cache.
  EXPECT_EQ(GetCpuBlockCacheStats().cached_bytes, 0);
  for (int i = 0; i < 3; ++i) { const torch::Tensor t = torch::empty({kFloats}); }
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
