#include "segtune/runtime/nhwc_tensor.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>

#include "segtune/core/error.h"

namespace segtune {

NhwcTensor::~NhwcTensor() {
  if (owner_ != nullptr) owner_->Give(data_);
}

NhwcTensor::NhwcTensor(NhwcTensor&& other) noexcept { *this = std::move(other); }

NhwcTensor& NhwcTensor::operator=(NhwcTensor&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Give(data_);
    n = other.n, h = other.h, w = other.w, c = other.c;
    data_ = std::exchange(other.data_, nullptr);
    owner_ = std::exchange(other.owner_, nullptr);
  }
  return *this;
}

NhwcTensor Workspace::Take(int64_t n, int64_t h, int64_t w, int64_t c) {
  constexpr int64_t kMaxElements = int64_t{1} << 40;
  if (n < 0 || h < 0 || w < 0 || c < 0 || (n > 0 && h > 0 && w > 0 && c > 0 && n * h > kMaxElements / w / c)) {
    throw UsageError("activation of " + std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" +
                     std::to_string(c) + " floats: negative or too large");
  }
  const size_t floats = static_cast<size_t>(n * h * w * c);
  // The smallest free block that fits; else a new one (blocks are never shrunk: the same shapes come back).
  Block* best = nullptr;
  for (Block& b : blocks_) {
    if (!b.in_use && b.capacity >= floats && (best == nullptr || b.capacity < best->capacity)) best = &b;
  }
  if (best == nullptr) {
    const size_t bytes = (std::max<size_t>(floats, 16) * sizeof(float) + 63) / 64 * 64;
    auto* memory = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (memory == nullptr) throw std::bad_alloc();
    blocks_.push_back(Block{{memory, [](float* p) { std::free(p); }}, bytes / sizeof(float), false});
    best = &blocks_.back();
  }
  best->in_use = true;
  NhwcTensor t;
  t.n = n, t.h = h, t.w = w, t.c = c;
  t.data_ = best->memory.get();
  t.owner_ = this;
  return t;
}

void Workspace::Give(float* data) {
  for (Block& b : blocks_) {
    if (b.memory.get() == data) b.in_use = false;
  }
}

}  // namespace segtune
