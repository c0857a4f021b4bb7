#include "segtune/runtime/bilinear_tap.h"

#include <algorithm>

namespace segtune {

LinearTap SourceTap(int64_t out_index, int64_t in_size, int64_t out_size) {
  if (in_size == out_size) return {out_index, out_index, 1.0f, 0.0f};
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const double real = std::max(0.0, static_cast<double>(scale) * (static_cast<double>(out_index) + 0.5) - 0.5);
  LinearTap tap;
  tap.i0 = static_cast<int64_t>(real);
  tap.i1 = tap.i0 + (tap.i0 < in_size - 1 ? 1 : 0);
  tap.w1 = static_cast<float>(real - static_cast<double>(tap.i0));
  tap.w0 = 1.0f - tap.w1;
  return tap;
}

}  // namespace segtune
