#include "segtune/inference/class_argmax.h"

#include <algorithm>
#include <cstring>

#include "segtune/core/error.h"

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

}  // namespace

void ClassArgmax(const float* logits, int64_t classes, int64_t pixels, int64_t plane_stride, uint8_t* class_map,
                 float* probability) {
  if (classes < 1 || classes > 256) throw Error("ClassArgmax: class count " + std::to_string(classes) + " not in 1..256");
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

}  // namespace segtune
