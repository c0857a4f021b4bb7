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

// Low-resolution logits as a segmentation head returns them: element (c, y, x) at
// data[c * class_stride + y * row_stride + x * col_stride] (NCHW or NHWC images of a batch alike).
struct LogitsView {
  const float* data = nullptr;
  int64_t classes = 0, height = 0, width = 0;
  int64_t class_stride = 0, row_stride = 0, col_stride = 0;
};

// ClassArgmax of the logits resized to out_height x out_width, i.e. of what the models' forward()
// returns (bilinear, align_corners=False, with upsample_bilinear2d's source indices and weights, each
// output value interpolated along x then y as its CPU kernel does), without the full-size logits
// ever existing: each output row is interpolated into a small buffer and reduced at once.
// Fills output rows [row_begin, row_end) of class_map and probability (row-major, out_width per row,
// pointing at row 0); probability may be null. Rows can be split between threads.
// Requires 1 <= classes <= 256 and positive sizes.
void ResizedClassArgmax(const LogitsView& logits, int64_t out_height, int64_t out_width, int64_t row_begin,
                        int64_t row_end, uint8_t* class_map, float* probability);

}  // namespace segtune
