#include "segtune/runtime/nhwc_ops.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "segtune/core/error.h"
#include "segtune/runtime/bilinear_tap.h"

namespace segtune {

NhwcTensor GlobalAveragePool(const NhwcTensor& x, Workspace& workspace) {
  NhwcTensor out = workspace.Take(x.n, 1, 1, x.c);
  const int64_t pixels = x.h * x.w;
  std::vector<float> sum(static_cast<size_t>(x.c));
  for (int64_t i = 0; i < x.n; ++i) {
    std::fill(sum.begin(), sum.end(), 0.f);
    const float* p = x.pixel(i, 0, 0);
    for (int64_t k = 0; k < pixels; ++k, p += x.c) {
      for (int64_t ch = 0; ch < x.c; ++ch) sum[static_cast<size_t>(ch)] += p[ch];
    }
    float* o = out.pixel(i, 0, 0);
    for (int64_t ch = 0; ch < x.c; ++ch) o[ch] = sum[static_cast<size_t>(ch)] / static_cast<float>(pixels);
  }
  return out;
}

void ScaleChannels(NhwcTensor& x, const NhwcTensor& scale) {
  if (scale.n != x.n || scale.h != 1 || scale.w != 1 || scale.c != x.c) {
    throw Error("ScaleChannels: a scale of " + std::to_string(scale.c) + " channels for " + std::to_string(x.c));
  }
  const int64_t pixels = x.h * x.w;
  for (int64_t i = 0; i < x.n; ++i) {
    const float* s = scale.pixel(i, 0, 0);
    float* p = x.pixel(i, 0, 0);
    for (int64_t k = 0; k < pixels; ++k, p += x.c) {
      for (int64_t ch = 0; ch < x.c; ++ch) p[ch] *= s[ch];
    }
  }
}

NhwcTensor ResizeBilinear(const NhwcTensor& x, int64_t height, int64_t width, Workspace& workspace) {
  NhwcTensor out = workspace.Take(x.n, height, width, x.c);
  std::vector<LinearTap> rows(static_cast<size_t>(height)), cols(static_cast<size_t>(width));
  for (int64_t y = 0; y < height; ++y) rows[static_cast<size_t>(y)] = SourceTap(y, x.h, height);
  for (int64_t c = 0; c < width; ++c) cols[static_cast<size_t>(c)] = SourceTap(c, x.w, width);
  for (int64_t i = 0; i < x.n; ++i) {
    for (int64_t y = 0; y < height; ++y) {
      const LinearTap& r = rows[static_cast<size_t>(y)];
      for (int64_t c = 0; c < width; ++c) {
        const LinearTap& t = cols[static_cast<size_t>(c)];
        const float* a = x.pixel(i, r.i0, t.i0);
        const float* b = x.pixel(i, r.i0, t.i1);
        const float* d = x.pixel(i, r.i1, t.i0);
        const float* e = x.pixel(i, r.i1, t.i1);
        float* o = out.pixel(i, y, c);
        for (int64_t ch = 0; ch < x.c; ++ch) {
          o[ch] = r.w0 * (t.w0 * a[ch] + t.w1 * b[ch]) + r.w1 * (t.w0 * d[ch] + t.w1 * e[ch]);
        }
      }
    }
  }
  return out;
}

void CopyChannels(const NhwcTensor& x, NhwcTensor& into, int64_t offset) {
  if (x.n != into.n || x.h != into.h || x.w != into.w || offset < 0 || offset + x.c > into.c) {
    throw Error("CopyChannels: " + std::to_string(x.c) + " channels do not fit at " + std::to_string(offset) +
                " of " + std::to_string(into.c));
  }
  const int64_t pixels = x.n * x.h * x.w;
  const size_t bytes = static_cast<size_t>(x.c) * sizeof(float);
  for (int64_t k = 0; k < pixels; ++k) std::memcpy(into.data() + k * into.c + offset, x.data() + k * x.c, bytes);
}

void NchwToNhwc(const float* nchw, NhwcTensor& out) {
  const int64_t plane = out.h * out.w;
  for (int64_t i = 0; i < out.n; ++i) {
    for (int64_t k = 0; k < plane; ++k) {
      float* o = out.data() + (i * plane + k) * out.c;
      for (int64_t ch = 0; ch < out.c; ++ch) o[ch] = nchw[(i * out.c + ch) * plane + k];
    }
  }
}

}  // namespace segtune
