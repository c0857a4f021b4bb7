// Class map and confidence from per-class logits in one pass, without materialising a softmax
// (torch-free; shared by the LibTorch and OpenCV DNN paths of `segtune infer`).
#pragma once

#include <cstdint>

namespace segtune {

// logits: `classes` planes of `pixels` floats, plane c starting at logits + c * plane_stride.
// Writes class_map[p] = the first class with the largest logit (torch.argmax's tie rule, so equal to
// the model's class map), and probability[p] = softmax probability of that class = 1 / sum_c
// exp(logit_c - max). exp is a polynomial (Cephes expf, ~1 ulp) so the loop vectorizes.
// Requires 1 <= classes <= 256; probability may be null (then only the class map is computed).
void ClassArgmax(const float* logits, int64_t classes, int64_t pixels, int64_t plane_stride, uint8_t* class_map,
                 float* probability);

}  // namespace segtune
