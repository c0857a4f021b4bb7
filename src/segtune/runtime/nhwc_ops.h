// The operations of the LibTorch-free runtime that are not convolutions, on NHWC tensors, each
// computing what the LibTorch op of the same name computes (float32, to rounding).
#pragma once

#include <cstdint>

#include "segtune/runtime/nhwc_tensor.h"

namespace segtune {

// adaptive_avg_pool2d(x, 1): n x 1 x 1 x c, each channel's mean over h x w.
NhwcTensor GlobalAveragePool(const NhwcTensor& x, Workspace& workspace);

// x[i, y, x, ch] *= scale[i, 0, 0, ch] (squeeze-excitation, LR-ASPP's attention): scale is n x 1 x 1 x c.
void ScaleChannels(NhwcTensor& x, const NhwcTensor& scale);

// interpolate(x, size=(height, width), mode="bilinear", align_corners=False).
NhwcTensor ResizeBilinear(const NhwcTensor& x, int64_t height, int64_t width, Workspace& workspace);

// Copies x into channels [offset, offset + x.c) of `into` (same n, h, w): concatenation along channels.
void CopyChannels(const NhwcTensor& x, NhwcTensor& into, int64_t offset);

// NCHW float32 [n, c, h, w] (contiguous) -> NHWC, for callers holding planar images.
void NchwToNhwc(const float* nchw, NhwcTensor& out);

}  // namespace segtune
