// A CPU allocator for LibTorch that keeps freed blocks for the next allocation of the same size.
//
// Why: a training step allocates the same tensor sizes every step. With glibc's malloc, blocks of
// several MiB are mmapped and unmapped each time, so every step pays page faults on fresh memory (an
// LR-ASPP batch of 8 at 256x256: ~20,000 faults per step, several ms of BatchNorm and ReLU time).
// Reusing the blocks takes the faults out of the step.
#pragma once

#include <cstddef>
#include <cstdint>

namespace segtune {

struct CpuBlockCacheStats {
  int64_t cached_bytes = 0;  // Free blocks held for reuse now.
  int64_t hits = 0;          // Allocations served from the cache.
  int64_t misses = 0;        // Allocations (of cacheable size) that went to the system.
};

// Makes LibTorch's CPU tensors (those created after the call) use the caching allocator. Blocks of at
// least kMinCachedBytes are cached once their size has been asked of the system twice (a size seen
// once, e.g. an image of its own size, is freed at once); smaller ones go to malloc as before. At most
// `max_cached_bytes` of free blocks are held: a free that would exceed it empties the cache first, so
// memory stays bounded whatever sizes a run allocates. Idempotent (a later call only changes the
// bound); thread-safe. Memory is 64-byte aligned, as LibTorch's own allocator gives.
void InstallCachingCpuAllocator(int64_t max_cached_bytes);

// The default bound: a quarter of physical memory, at most 2 GiB.
int64_t DefaultCpuBlockCacheBytes();

inline constexpr size_t kMinCachedBytes = 256 * 1024;

CpuBlockCacheStats GetCpuBlockCacheStats();

}  // namespace segtune
