// RoIAlign (Mask R-CNN) on the CPU with forward and backward, numerically as torchvision's
// ops/roi_align (csrc/ops/cpu/roi_align_kernel.cpp, 0.14). Parallel over RoIs.
#pragma once

#include <torch/types.h>

#include <array>

namespace segtune::detection {

// input [N,C,H,W] float/double; rois [K,5] (batch_index, x1, y1, x2, y2) in input-image pixels,
// same dtype. Returns [K,C,output_size[0],output_size[1]]: each bin is the mean of
// sampling_ratio x sampling_ratio bilinear samples (sampling_ratio <= 0: ceil(roi_size / bins)
// samples per bin, adaptive). Coordinates are multiplied by spatial_scale; aligned=true shifts them
// by -0.5 pixel (and does not force rois to be at least 1 pixel). Differentiable w.r.t. input
// (through a torch::autograd::Function); rois get no gradient. Throws UsageError on bad shapes.
torch::Tensor RoiAlign(const torch::Tensor& input, const torch::Tensor& rois, std::array<int64_t, 2> output_size,
                       double spatial_scale, int64_t sampling_ratio, bool aligned);

}  // namespace segtune::detection
