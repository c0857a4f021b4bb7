// Plain data passed between the detection pieces (transform, RPN, RoI heads, post-processing).
// Image sizes are always {height, width}; boxes are always [N,4] float (x1, y1, x2, y2) in pixels.
#pragma once

#include <torch/types.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace segtune::detection {

// {height, width} of one image.
using ImageSize = std::array<int64_t, 2>;

// Images padded into one batch, as torchvision's ImageList: tensors [B,C,H,W] (H, W multiples of
// size_divisible), image_sizes[i] the size of image i after resizing and before padding.
struct ImageList {
  torch::Tensor tensors;
  std::vector<ImageSize> image_sizes;
};

// Ground truth for one image (torchvision's target dict).
struct DetectionTarget {
  torch::Tensor boxes;   // [N,4] float xyxy, pixels of the image it belongs to.
  torch::Tensor labels;  // [N] int64, 1..num_classes-1 (0 is background).
  torch::Tensor masks;   // [N,H,W] uint8 instance masks; undefined for box-only models.
};

// Detections for one image (torchvision's result dict).
struct Detections {
  torch::Tensor boxes;   // [N,4] float xyxy.
  torch::Tensor scores;  // [N] float.
  torch::Tensor labels;  // [N] int64.
  torch::Tensor masks;   // [N,1,H,W] float probabilities; undefined for box-only models.
};

// Named feature maps in the order the backbone produced them (torchvision's OrderedDict), e.g.
// {"0", P2}, {"1", P3}, ..., {"pool", P6} for an FPN.
using FeatureMaps = std::vector<std::pair<std::string, torch::Tensor>>;

}  // namespace segtune::detection
