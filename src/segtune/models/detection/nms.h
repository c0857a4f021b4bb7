// Non-maximum suppression on the CPU, torchvision.ops.nms / batched_nms semantics.
#pragma once

#include <torch/types.h>

namespace segtune::detection {

// Indices (int64) of the boxes kept, in decreasing score order. boxes [N,4] xyxy, scores [N] (any
// floating dtype, same for both). A box is dropped when its IoU with a higher-scoring kept box is
// strictly greater than iou_threshold. Ties in score keep torchvision's order (a stable sort by
// descending score). Throws UsageError on bad shapes.
torch::Tensor Nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold);

// NMS within each category idxs [N] (int64) independently: boxes of different categories never
// suppress each other (torchvision's coordinate-offset trick). Result sorted by decreasing score.
torch::Tensor BatchedNms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                         double iou_threshold);

}  // namespace segtune::detection
