// Anchors per feature-map location, as torchvision.models.detection.anchor_utils.AnchorGenerator.
#pragma once

#include <torch/types.h>

#include <vector>

#include "segtune/models/detection/types.h"

namespace segtune::detection {

class AnchorGenerator {
 public:
  // sizes[l] and aspect_ratios[l]: the anchor sizes and height/width ratios of feature level l
  // (equal numbers of levels). Each level has sizes[l].size() * aspect_ratios[l].size() anchors
  // per location, ordered ratio-major as torchvision (ws = (w_ratios[:, None] * scales[None, :])),
  // cell anchors rounded to integers. Throws UsageError if the level counts differ.
  AnchorGenerator(std::vector<std::vector<double>> sizes, std::vector<std::vector<double>> aspect_ratios);

  // Anchors per location for each level.
  std::vector<int64_t> NumAnchorsPerLocation() const;

  // Per image: [sum_l H_l*W_l*A_l, 4] float anchors in the batch's padded pixel frame, levels in
  // order, locations row-major, the A_l anchors of a location contiguous. Strides per level are
  // image_list.tensors H / H_l and W / W_l (integer division, as torchvision). Throws UsageError if
  // the number of feature maps differs from the number of levels.
  std::vector<torch::Tensor> forward(const ImageList& images, const std::vector<torch::Tensor>& feature_maps) const;

 private:
  std::vector<std::vector<double>> sizes_;
  std::vector<std::vector<double>> aspect_ratios_;
  std::vector<torch::Tensor> cell_anchors_;  // [A_l, 4] float per level.
};

}  // namespace segtune::detection
