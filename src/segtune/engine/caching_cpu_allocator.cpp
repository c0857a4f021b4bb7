#include "segtune/engine/caching_cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace segtune {
namespace {

// Each block starts with a header holding its (rounded) size, so the deleter, which gets only the
// pointer, knows which free list the block goes back to. 64 bytes keep the data 64-byte aligned.
constexpr size_t kHeader = 64;
constexpr size_t kPage = 4096;

struct BlockCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // Rounded size -> blocks (their bases).
  // How often each size went to the system. Only a size asked for again is kept on free: a training
  // step's sizes repeat every step, while images of varying sizes would fill the cache with blocks
  // that are never asked for again.
  std::unordered_map<size_t, int> misses_of_size;
  int64_t cached_bytes = 0, max_cached_bytes = 0;
  int64_t hits = 0, misses = 0;

  void ReleaseAllLocked() {
    for (auto& [size, blocks] : free_blocks) {
      for (void* base : blocks) std::free(base);
    }
    free_blocks.clear();
    cached_bytes = 0;
  }
};

BlockCache& Cache() {
  static auto* cache = new BlockCache;  // Never destroyed: tensors may be freed during static destruction.
  return *cache;
}

size_t& SizeOf(void* base) { return *static_cast<size_t*>(base); }
void* DataOf(void* base) { return static_cast<char*>(base) + kHeader; }
void* BaseOf(void* data) { return static_cast<char*>(data) - kHeader; }

void* NewBlock(size_t size) {
  void* base = nullptr;
  if (size > SIZE_MAX - kHeader || posix_memalign(&base, kHeader, size + kHeader) != 0) throw std::bad_alloc();
  SizeOf(base) = size;
  return base;
}

void* TakeBlock(size_t size) {
  if (size < kMinCachedBytes) return NewBlock(size);
  BlockCache& cache = Cache();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.free_blocks.find(size);
    if (it != cache.free_blocks.end() && !it->second.empty()) {
      void* base = it->second.back();
      it->second.pop_back();
      cache.cached_bytes -= static_cast<int64_t>(size);
      ++cache.hits;
      return base;
    }
    ++cache.misses;
    if (cache.misses_of_size.size() > 65536) cache.misses_of_size.clear();  // Bounded bookkeeping.
    ++cache.misses_of_size[size];
  }
  return NewBlock(size);
}

void GiveBack(void* data) {
  if (data == nullptr) return;
  void* base = BaseOf(data);
  const size_t size = SizeOf(base);
  if (size < kMinCachedBytes) return std::free(base);
  BlockCache& cache = Cache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (static_cast<int64_t>(size) > cache.max_cached_bytes) return std::free(base);
  const auto seen = cache.misses_of_size.find(size);
  if (seen == cache.misses_of_size.end() || seen->second < 2) return std::free(base);
  if (cache.cached_bytes + static_cast<int64_t>(size) > cache.max_cached_bytes) cache.ReleaseAllLocked();
  cache.free_blocks[size].push_back(base);
  cache.cached_bytes += static_cast<int64_t>(size);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) const override {
    if (bytes == 0) return {nullptr, nullptr, &GiveBack, c10::Device(c10::DeviceType::CPU)};
    // Sizes of cached blocks are rounded up to whole pages, so near sizes share a free list.
    const size_t size = bytes < kMinCachedBytes ? bytes : (bytes + kPage - 1) / kPage * kPage;
    void* data = DataOf(TakeBlock(size));
    return {data, data, &GiveBack, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &GiveBack; }
};

}  // namespace

void InstallCachingCpuAllocator(int64_t max_cached_bytes) {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator;  // Outlives every tensor it made.
  {
    std::lock_guard<std::mutex> lock(Cache().mutex);
    Cache().max_cached_bytes = std::max<int64_t>(max_cached_bytes, 0);
    if (Cache().cached_bytes > Cache().max_cached_bytes) Cache().ReleaseAllLocked();
  }
  static std::once_flag installed;
  std::call_once(installed, [] { c10::SetCPUAllocator(allocator, /*priority=*/1); });
}

int64_t DefaultCpuBlockCacheBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  constexpr int64_t kMax = int64_t{2} << 30;
  if (pages <= 0 || page <= 0) return kMax / 4;
  return std::min<int64_t>(kMax, static_cast<int64_t>(pages) / 4 * page);
}

CpuBlockCacheStats GetCpuBlockCacheStats() {
  std::lock_guard<std::mutex> lock(Cache().mutex);
  return {Cache().cached_bytes, Cache().hits, Cache().misses};
}

}  // namespace segtune
