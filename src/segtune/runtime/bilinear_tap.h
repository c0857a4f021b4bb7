// Source indices and weights of a bilinear resize (align_corners=False), as ATen's
// upsample_bilinear2d computes them for float tensors, so that resizes outside LibTorch (the fused
// resize + argmax of `segtune infer`, the LibTorch-free runtime) give LibTorch's values.
#pragma once

#include <cstdint>

namespace segtune {

// One output index: out = w0 * in[i0] + w1 * in[i1].
struct LinearTap {
  int64_t i0 = 0, i1 = 0;
  float w0 = 1, w1 = 0;
};

// The tap of output index `out_index` when `in_size` values are resized to `out_size`: float scale,
// source position and weight in double, weights rounded to float (ATen's
// compute_source_index_and_lambda).
LinearTap SourceTap(int64_t out_index, int64_t in_size, int64_t out_size);

}  // namespace segtune
