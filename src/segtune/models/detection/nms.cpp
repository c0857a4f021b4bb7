#include "segtune/models/detection/nms.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/torch.h>

#ifdef __SSE2__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "segtune/core/error.h"

namespace segtune::detection {

namespace {

// The smallest value v of type T with (double)v > threshold, so that `ovr >= v` in T decides exactly
// what torchvision's `ovr > iou_threshold` (ovr promoted to double) decides, and the loops below stay
// in one type (four floats per SSE instruction).
template <typename T>
T SuppressFrom(double threshold) {
  const T t = static_cast<T>(threshold);
  if (static_cast<double>(t) > threshold) return t;
  return std::nextafter(t, std::numeric_limits<T>::infinity());
}

template <typename T>
struct Boxes {
  const T *x1, *y1, *x2, *y2, *area;
};

// Marks box j in (i, n) suppressed when its IoU with box i is at least `from`, with torchvision's
// operations in torchvision's order: w = max(0, min(x2_i, x2_j) - max(x1_i, x1_j)), likewise h,
// inter = w * h, iou = inter / (area_i + area_j - inter).
template <typename T>
void SuppressOverlapsFrom(const Boxes<T>& b, int64_t i, int64_t j, int64_t n, T from, uint8_t* suppressed) {
  for (; j < n; ++j) {
    const T w = std::max(static_cast<T>(0), std::min(b.x2[i], b.x2[j]) - std::max(b.x1[i], b.x1[j]));
    const T h = std::max(static_cast<T>(0), std::min(b.y2[i], b.y2[j]) - std::max(b.y1[i], b.y1[j]));
    const T inter = w * h;
    suppressed[j] |= static_cast<uint8_t>(inter / (b.area[i] + b.area[j] - inter) >= from);
  }
}

template <typename T>
void SuppressOverlaps(const Boxes<T>& b, int64_t i, int64_t n, T from, uint8_t* suppressed) {
  SuppressOverlapsFrom(b, i, i + 1, n, from, suppressed);
}

#ifdef __SSE2__
// Four boxes at a time (GCC's -O2 leaves the loop above scalar). _mm_min_ps(a, b) is a < b ? a : b and
// _mm_max_ps(a, b) is a > b ? a : b, so with the operands in this order each lane computes exactly
// std::min / std::max above, NaN included; no FMA is involved, so results are bit-identical.
template <>
void SuppressOverlaps<float>(const Boxes<float>& b, int64_t i, int64_t n, float from, uint8_t* suppressed) {
  const __m128 ix1 = _mm_set1_ps(b.x1[i]), iy1 = _mm_set1_ps(b.y1[i]), ix2 = _mm_set1_ps(b.x2[i]),
               iy2 = _mm_set1_ps(b.y2[i]), iarea = _mm_set1_ps(b.area[i]), zero = _mm_setzero_ps(),
               threshold = _mm_set1_ps(from);
  int64_t j = i + 1;
  for (; j + 4 <= n; j += 4) {
    const __m128 w = _mm_max_ps(
        _mm_sub_ps(_mm_min_ps(_mm_loadu_ps(b.x2 + j), ix2), _mm_max_ps(_mm_loadu_ps(b.x1 + j), ix1)), zero);
    const __m128 h = _mm_max_ps(
        _mm_sub_ps(_mm_min_ps(_mm_loadu_ps(b.y2 + j), iy2), _mm_max_ps(_mm_loadu_ps(b.y1 + j), iy1)), zero);
    const __m128 inter = _mm_mul_ps(w, h);
    const __m128 iou = _mm_div_ps(inter, _mm_sub_ps(_mm_add_ps(iarea, _mm_loadu_ps(b.area + j)), inter));
    const int mask = _mm_movemask_ps(_mm_cmpge_ps(iou, threshold));
    if (mask == 0) continue;
    for (int k = 0; k < 4; ++k) suppressed[j + k] |= static_cast<uint8_t>((mask >> k) & 1);
  }
  SuppressOverlapsFrom(b, i, j, n, from, suppressed);
}
#endif

// torchvision's nms_kernel_impl (csrc/ops/cpu/nms_kernel.cpp): greedy over a stable descending sort.
// The boxes are gathered in score order first, and every later box's IoU is computed (suppressed or
// not: suppressing twice changes nothing), with torchvision's arithmetic, so the inner loop runs over
// contiguous arrays, four boxes at a time. Same result.
template <typename T>
torch::Tensor NmsKernel(const torch::Tensor& dets, const torch::Tensor& scores, double iou_threshold) {
  const torch::Tensor order_t = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true)).contiguous();
  const torch::Tensor sorted = dets.index_select(0, order_t).t().contiguous();  // [4, N]: x1, y1, x2, y2 rows.
  const int64_t n = dets.size(0);
  const T* x1 = sorted.data_ptr<T>();
  const T* y1 = x1 + n;
  const T* x2 = y1 + n;
  const T* y2 = x2 + n;
  std::vector<T> areas(n);
  for (int64_t i = 0; i < n; ++i) areas[i] = (x2[i] - x1[i]) * (y2[i] - y1[i]);
  const T suppress_from = SuppressFrom<T>(iou_threshold);
  std::vector<uint8_t> suppressed(n, 0);
  const int64_t* order = order_t.data_ptr<int64_t>();
  torch::Tensor keep_t = torch::empty({n}, torch::kLong);
  int64_t* keep = keep_t.data_ptr<int64_t>();
  int64_t num_to_keep = 0;
  const Boxes<T> boxes{x1, y1, x2, y2, areas.data()};
  for (int64_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    keep[num_to_keep++] = order[i];
    SuppressOverlaps(boxes, i, n, suppress_from, suppressed.data());
  }
  return keep_t.narrow(0, 0, num_to_keep);
}

// Per-category loop used by torchvision above 1000 boxes on the CPU.
torch::Tensor BatchedNmsPerCategory(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                                    double iou_threshold) {
  const torch::Tensor categories = std::get<0>(torch::_unique(idxs));
  // Categories are independent: one per task, on all threads (each NMS is sequential).
  std::vector<torch::Tensor> kept(categories.numel());
  at::parallel_for(0, categories.numel(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const torch::Tensor current = torch::where(idxs == categories[c])[0];
      kept[c] = current.index({Nms(boxes.index({current}), scores.index({current}), iou_threshold)});
    }
  });
  torch::Tensor keep_mask = torch::zeros_like(scores, torch::kBool);
  if (!kept.empty()) keep_mask.index_put_({torch::cat(kept)}, true);
  const torch::Tensor keep = torch::where(keep_mask)[0];
  return keep.index({std::get<1>(scores.index({keep}).sort(/*dim=*/0, /*descending=*/true))});
}

}  // namespace

torch::Tensor Nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold) {
  if (boxes.dim() != 2 || boxes.size(1) != 4) {
    throw UsageError("Nms: expected boxes of shape [N,4], got " + c10::str(boxes.sizes()));
  }
  if (scores.dim() != 1 || scores.size(0) != boxes.size(0)) {
    throw UsageError("Nms: expected scores of shape [" + std::to_string(boxes.size(0)) + "], got " +
                     c10::str(scores.sizes()));
  }
  if (boxes.numel() == 0) return torch::empty({0}, torch::kLong);
  RECORD_FUNCTION("segtune::nms", std::vector<c10::IValue>());  // Named in profiles (bench/).
  const torch::Tensor dets = boxes.detach().cpu();
  const torch::Tensor s = scores.detach().cpu().to(dets.scalar_type());
  torch::Tensor keep;
  AT_DISPATCH_FLOATING_TYPES(dets.scalar_type(), "segtune_nms", [&] { keep = NmsKernel<scalar_t>(dets, s, iou_threshold); });
  return keep.to(boxes.device());
}

torch::Tensor BatchedNms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                         double iou_threshold) {
  if (boxes.numel() > 4000) return BatchedNmsPerCategory(boxes, scores, idxs, iou_threshold);
  if (boxes.numel() == 0) return torch::empty({0}, torch::TensorOptions().dtype(torch::kLong).device(boxes.device()));
  // Offsets larger than any coordinate keep the categories apart.
  const torch::Tensor max_coordinate = boxes.max();
  const torch::Tensor offsets = idxs.to(boxes.options()) * (max_coordinate + torch::tensor(1).to(boxes.options()));
  return Nms(boxes + offsets.unsqueeze(1), scores, iou_threshold);
}

}  // namespace segtune::detection
