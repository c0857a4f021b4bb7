// Multi-level RoIAlign over FPN levels, as torchvision.ops.MultiScaleRoIAlign (0.14).
#pragma once

#include <torch/types.h>

#include <array>
#include <string>
#include <vector>

#include "segtune/models/detection/types.h"

namespace segtune::detection {

// Maps each box to an FPN level (torchvision's LevelMapper, eq. 1 of the FPN paper):
// level = clamp(floor(canonical_level + log2(sqrt(area) / canonical_scale) + eps), k_min, k_max),
// returned 0-based: level - k_min.
class LevelMapper {
 public:
  LevelMapper(int64_t k_min, int64_t k_max, int64_t canonical_scale = 224, int64_t canonical_level = 4,
              double eps = 1e-6);
  // boxes: per image [N_i,4]. Returns [sum N_i] int64 level indices.
  torch::Tensor operator()(const std::vector<torch::Tensor>& boxes) const;

 private:
  int64_t k_min_, k_max_, canonical_scale_, canonical_level_;
  double eps_;
};

class MultiScaleRoIAlign {
 public:
  // featmap_names: which feature maps to pool from; output_size {h, w}; sampling_ratio as RoiAlign.
  // aligned is always false, as torchvision's MultiScaleRoIAlign.
  MultiScaleRoIAlign(std::vector<std::string> featmap_names, std::array<int64_t, 2> output_size,
                     int64_t sampling_ratio, int64_t canonical_scale = 224, int64_t canonical_level = 4);

  // features: the backbone's maps ([B,C,H_l,W_l], in their order; those not in featmap_names are
  // ignored); boxes: per image [N_i,4] in image_sizes' padded-batch pixels; image_sizes: per image
  // {h, w} after resizing. Each level's scale is inferred as 2^round(log2(H_l / max image h)), as
  // torchvision's setup_scales, on every call. Returns [sum N_i, C, h, w] in the order of the
  // concatenated boxes. Throws UsageError when no feature map matches featmap_names.
  torch::Tensor forward(const FeatureMaps& features, const std::vector<torch::Tensor>& boxes,
                        const std::vector<ImageSize>& image_sizes) const;

  const std::vector<std::string>& featmap_names() const { return featmap_names_; }
  std::array<int64_t, 2> output_size() const { return output_size_; }

 private:
  std::vector<std::string> featmap_names_;
  std::array<int64_t, 2> output_size_;
  int64_t sampling_ratio_;
  int64_t canonical_scale_;
  int64_t canonical_level_;
};

}  // namespace segtune::detection
