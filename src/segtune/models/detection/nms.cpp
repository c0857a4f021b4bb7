#include "segtune/models/detection/nms.h"

#include <torch/torch.h>

#include <algorithm>

#include "segtune/core/error.h"

namespace segtune::detection {

namespace {

// torchvision's nms_kernel_impl (csrc/ops/cpu/nms_kernel.cpp): greedy over a stable descending sort.
template <typename scalar_t>
torch::Tensor NmsKernel(const torch::Tensor& dets, const torch::Tensor& scores, double iou_threshold) {
  const torch::Tensor x1_t = dets.select(1, 0).contiguous();
  const torch::Tensor y1_t = dets.select(1, 1).contiguous();
  const torch::Tensor x2_t = dets.select(1, 2).contiguous();
  const torch::Tensor y2_t = dets.select(1, 3).contiguous();
  const torch::Tensor areas_t = ((x2_t - x1_t) * (y2_t - y1_t)).contiguous();
  const torch::Tensor order_t = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true)).contiguous();
  const int64_t ndets = dets.size(0);
  std::vector<uint8_t> suppressed(ndets, 0);
  torch::Tensor keep_t = torch::empty({ndets}, torch::kLong);
  const scalar_t* x1 = x1_t.data_ptr<scalar_t>();
  const scalar_t* y1 = y1_t.data_ptr<scalar_t>();
  const scalar_t* x2 = x2_t.data_ptr<scalar_t>();
  const scalar_t* y2 = y2_t.data_ptr<scalar_t>();
  const scalar_t* areas = areas_t.data_ptr<scalar_t>();
  const int64_t* order = order_t.data_ptr<int64_t>();
  int64_t* keep = keep_t.data_ptr<int64_t>();
  int64_t num_to_keep = 0;
  for (int64_t oi = 0; oi < ndets; ++oi) {
    const int64_t i = order[oi];
    if (suppressed[i]) continue;
    keep[num_to_keep++] = i;
    const scalar_t ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = areas[i];
    for (int64_t oj = oi + 1; oj < ndets; ++oj) {
      const int64_t j = order[oj];
      if (suppressed[j]) continue;
      const scalar_t w = std::max(static_cast<scalar_t>(0), std::min(ix2, x2[j]) - std::max(ix1, x1[j]));
      const scalar_t h = std::max(static_cast<scalar_t>(0), std::min(iy2, y2[j]) - std::max(iy1, y1[j]));
      const scalar_t inter = w * h;
      const scalar_t ovr = inter / (iarea + areas[j] - inter);
      if (ovr > iou_threshold) suppressed[j] = 1;
    }
  }
  return keep_t.narrow(0, 0, num_to_keep);
}

// Per-category loop used by torchvision above 1000 boxes on the CPU.
torch::Tensor BatchedNmsPerCategory(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                                    double iou_threshold) {
  torch::Tensor keep_mask = torch::zeros_like(scores, torch::kBool);
  const torch::Tensor categories = std::get<0>(torch::_unique(idxs));
  for (int64_t c = 0; c < categories.numel(); ++c) {
    const torch::Tensor current = torch::where(idxs == categories[c])[0];
    const torch::Tensor kept = Nms(boxes.index({current}), scores.index({current}), iou_threshold);
    keep_mask.index_put_({current.index({kept})}, true);
  }
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
