// The activations of the LibTorch-free runtime: float32 n x h x w x c arrays in NHWC order (what the
// oneDNN convolutions read and write without reorders), their memory taken from a Workspace.
//
// Why a workspace: a 512x512 forward makes ~60 activations of up to 16 MB. Fresh allocations of that
// size are mmap'ed and every page faults when first written; reusing the blocks of the previous image
// avoids that (the LibTorch path has engine/caching_cpu_allocator.h for the same reason).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace segtune {

class Workspace;

class NhwcTensor {
 public:
  NhwcTensor() = default;
  ~NhwcTensor();
  NhwcTensor(NhwcTensor&& other) noexcept;
  NhwcTensor& operator=(NhwcTensor&& other) noexcept;
  NhwcTensor(const NhwcTensor&) = delete;
  NhwcTensor& operator=(const NhwcTensor&) = delete;

  int64_t n = 0, h = 0, w = 0, c = 0;
  float* data() const { return data_; }
  int64_t size() const { return n * h * w * c; }
  // Element (image, y, x, channel) is data()[((image * h + y) * w + x) * c + channel].
  float* pixel(int64_t image, int64_t y, int64_t x) const { return data_ + ((image * h + y) * w + x) * c; }

 private:
  friend class Workspace;
  float* data_ = nullptr;
  Workspace* owner_ = nullptr;  // Gets the block back on destruction.
};

// Blocks of memory for one thread's forward passes, kept between passes. Not thread-safe: one per
// worker. Must outlive the tensors it gave out.
class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // An uninitialized tensor of the given shape (64-byte aligned). Throws UsageError for a negative
  // dimension or more than 2^40 elements.
  NhwcTensor Take(int64_t n, int64_t h, int64_t w, int64_t c);

 private:
  friend class NhwcTensor;
  struct Block {
    std::unique_ptr<float, void (*)(float*)> memory{nullptr, nullptr};
    size_t capacity = 0;  // Floats.
    bool in_use = false;
  };
  void Give(float* data);
  std::vector<Block> blocks_;
};

}  // namespace segtune
