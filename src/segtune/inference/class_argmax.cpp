#include "segtune/inference/class_argmax.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "segtune/core/error.h"
#include "segtune/runtime/bilinear_tap.h"

// These per-pixel loops are most of `segtune infer`'s time after the model. The Release build is -O2
// for generic x86-64, where GCC 12 vectorizes only loops that need no scalar epilogue: the pragma
// lets it vectorize these, and the hot functions are also built for AVX2 and chosen at load time.
// AVX2 without FMA keeps every value's operations and their order, so both builds give the same bits.
#pragma GCC optimize("vect-cost-model=dynamic")
#if defined(__GNUC__) && defined(__x86_64__)
#define SEGTUNE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SEGTUNE_VECTOR_CLONES
#endif

namespace segtune {

namespace {

constexpr int64_t kBlock = 1024;  // Pixels per block: running max/sum stay in L1.

// exp(x) for x <= 0 (Cephes expf: Cody-Waite reduction, degree-6 polynomial). Round-to-nearest via
// the 1.5 * 2^23 trick and the exponent built from integer bits keep it branch- and convert-free, so
// the callers' loops vectorize without -ffast-math.
inline float ExpNonPositive(float x) {
  // Clamp to -87 on the bit pattern (a negative float below -87 has larger magnitude bits): integer
  // selects vectorize, float compares do not under the default -ftrapping-math.
  uint32_t x_bits;
  std::memcpy(&x_bits, &x, sizeof x_bits);
  const uint32_t kMinus87 = 0xC2AE0000u;  // Only negative floats below -87 have unsigned bits above it.
  x_bits = x_bits > kMinus87 ? kMinus87 : x_bits;
  std::memcpy(&x, &x_bits, sizeof x);
  const float magic = 12582912.0f;                // 1.5 * 2^23: adding it rounds to an integer.
  const float t = x * 1.44269504088896341f + magic;
  int32_t n_int;
  std::memcpy(&n_int, &t, sizeof n_int);
  n_int -= 0x4B400000;                            // The integer in t's mantissa (no float->int convert).
  const float n = t - magic;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (n_int + 127) * (1 << 23);
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

SEGTUNE_VECTOR_CLONES void ArgmaxBlocks(const float* logits, int64_t classes, int64_t pixels, int64_t plane_stride,
                                         uint8_t* class_map, float* probability) {
  float best[kBlock], sum[kBlock];
  int32_t index[kBlock];
  for (int64_t start = 0; start < pixels; start += kBlock) {
    const int64_t n = std::min(kBlock, pixels - start);
    const float* plane = logits + start;
    for (int64_t i = 0; i < n; ++i) {
      best[i] = plane[i];
      index[i] = 0;
    }
    for (int64_t c = 1; c < classes; ++c) {
      const float* x = plane + c * plane_stride;
      const int32_t cc = static_cast<int32_t>(c);
      for (int64_t i = 0; i < n; ++i) {
        const float v = x[i], b = best[i];
        const int32_t j = index[i];
        const bool larger = __builtin_isgreater(v, b);  // Strict: the first maximum wins, as in torch.argmax.
        best[i] = larger ? v : b;
        index[i] = larger ? cc : j;
      }
    }
    for (int64_t i = 0; i < n; ++i) class_map[start + i] = static_cast<uint8_t>(index[i]);
    if (!probability) continue;
    for (int64_t i = 0; i < n; ++i) sum[i] = 0.0f;
    for (int64_t c = 0; c < classes; ++c) {
      const float* x = plane + c * plane_stride;
      for (int64_t i = 0; i < n; ++i) sum[i] += ExpNonPositive(x[i] - best[i]);
    }
    for (int64_t i = 0; i < n; ++i) probability[start + i] = 1.0f / sum[i];
  }
}

// out = top * w0 + bottom * w1, element-wise: the y step of the bilinear resize.
SEGTUNE_VECTOR_CLONES void BlendRows(const float* top, float w0, const float* bottom, float w1, int64_t n,
                                     float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = top[i] * w0 + bottom[i] * w1;
}

}  // namespace

void ClassArgmax(const float* logits, int64_t classes, int64_t pixels, int64_t plane_stride, uint8_t* class_map,
                 float* probability) {
  if (classes < 1 || classes > 256) throw Error("ClassArgmax: class count " + std::to_string(classes) + " not in 1..256");
  ArgmaxBlocks(logits, classes, pixels, plane_stride, class_map, probability);
}

namespace {

// Source rows interpolated along x to the output width ([classes][out_width] each), the last two
// kept: consecutive output rows mostly reuse them.
class WideRows {
 public:
  WideRows(const LogitsView& logits, int64_t out_width) : logits_(logits), out_width_(out_width) {
    taps_.reserve(static_cast<size_t>(out_width));
    for (int64_t x = 0; x < out_width; ++x) taps_.push_back(SourceTap(x, logits.width, out_width));
    source_.resize(static_cast<size_t>(logits.classes * logits.width));
    for (auto& slot : slots_) slot.values.resize(static_cast<size_t>(logits.classes * out_width));
  }

  // Row y along x; valid until the next call that needs a third row.
  const float* Get(int64_t y, int64_t keep) {
    for (auto& slot : slots_) {
      if (slot.row == y) return slot.values.data();
    }
    Slot& slot = slots_[0].row == keep ? slots_[1] : slots_[0];
    Fill(y, slot.values.data());
    slot.row = y;
    return slot.values.data();
  }

 private:
  struct Slot {
    int64_t row = -1;
    std::vector<float> values;
  };

  void Fill(int64_t y, float* wide) {
    const int64_t classes = logits_.classes, width = logits_.width;
    float* plane = source_.data();  // Row y as contiguous [classes][width], whatever the strides.
    for (int64_t c = 0; c < classes; ++c) {
      const float* src = logits_.data + c * logits_.class_stride + y * logits_.row_stride;
      for (int64_t x = 0; x < width; ++x) plane[c * width + x] = src[x * logits_.col_stride];
    }
    for (int64_t c = 0; c < classes; ++c) {
      const float* in = plane + c * width;
      float* out = wide + c * out_width_;
      for (int64_t x = 0; x < out_width_; ++x) {
        const LinearTap& t = taps_[static_cast<size_t>(x)];
        out[x] = in[t.i0] * t.w0 + in[t.i1] * t.w1;
      }
    }
  }

  const LogitsView& logits_;
  const int64_t out_width_;
  std::vector<LinearTap> taps_;
  std::vector<float> source_;
  Slot slots_[2];
};

}  // namespace

void ResizedClassArgmax(const LogitsView& logits, int64_t out_height, int64_t out_width, int64_t row_begin,
                        int64_t row_end, uint8_t* class_map, float* probability) {
  if (logits.classes < 1 || logits.classes > 256 || logits.height < 1 || logits.width < 1 || out_height < 1 ||
      out_width < 1) {
    throw Error("ResizedClassArgmax: " + std::to_string(logits.classes) + " classes of " +
                std::to_string(logits.height) + "x" + std::to_string(logits.width) + " logits to " +
                std::to_string(out_height) + "x" + std::to_string(out_width) + ": expected 1..256 classes, sizes >= 1");
  }
  const int64_t classes = logits.classes;
  WideRows wide(logits, out_width);
  std::vector<float> row(static_cast<size_t>(classes * out_width));  // One output row, [classes][out_width].
  for (int64_t y = row_begin; y < row_end; ++y) {
    const LinearTap tap = SourceTap(y, logits.height, out_height);
    const float* top = wide.Get(tap.i0, tap.i1);
    const float* bottom = wide.Get(tap.i1, tap.i0);
    BlendRows(top, tap.w0, bottom, tap.w1, classes * out_width, row.data());
    ArgmaxBlocks(row.data(), classes, out_width, out_width, class_map + y * out_width,
                probability ? probability + y * out_width : nullptr);
  }
}

}  // namespace segtune
