// Box arithmetic, box coding and proposal matching/sampling with torchvision's numerics
// (torchvision/ops/boxes.py and torchvision/models/detection/_utils.py, 0.14).
// Boxes are [N,4] float (x1, y1, x2, y2).
#pragma once

#include <torch/types.h>

#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "segtune/models/detection/types.h"

namespace segtune::detection {

// (x2 - x1) * (y2 - y1) per box: [N].
torch::Tensor BoxArea(const torch::Tensor& boxes);

// Pairwise intersection over union of a [N,4] and b [M,4]: [N,M] (torchvision.ops.box_iou).
torch::Tensor BoxIou(const torch::Tensor& a, const torch::Tensor& b);

// Boxes clamped to [0, width] x [0, height] (torchvision.ops.clip_boxes_to_image). Any [...,4].
torch::Tensor ClipBoxesToImage(const torch::Tensor& boxes, ImageSize size);

// Indices (int64) of the boxes whose width and height are both >= min_size
// (torchvision.ops.remove_small_boxes).
torch::Tensor RemoveSmallBoxes(const torch::Tensor& boxes, double min_size);

// Encodes boxes relative to reference boxes as (dx, dy, dw, dh) regression targets and back
// (torchvision's det_utils.BoxCoder, same float32 operation order).
class BoxCoder {
 public:
  explicit BoxCoder(std::array<double, 4> weights = {1.0, 1.0, 1.0, 1.0},
                    double bbox_xform_clip = std::log(1000.0 / 16.0))
      : weights_(weights), bbox_xform_clip_(bbox_xform_clip) {}

  // Targets [N,4] that turn each proposals[i] into reference_boxes[i] (both [N,4]).
  torch::Tensor EncodeSingle(const torch::Tensor& reference_boxes, const torch::Tensor& proposals) const;
  // Per image: EncodeSingle(reference_boxes[i], proposals[i]). Equal lengths required.
  std::vector<torch::Tensor> Encode(const std::vector<torch::Tensor>& reference_boxes,
                                    const std::vector<torch::Tensor>& proposals) const;

  // rel_codes [N, 4*K] applied to boxes [N,4] -> [N, 4*K] (dw, dh clamped at bbox_xform_clip;
  // x1 = ctr_x - 0.5*w, x2 = ctr_x + 0.5*w as torchvision).
  torch::Tensor DecodeSingle(const torch::Tensor& rel_codes, const torch::Tensor& boxes) const;
  // rel_codes [sum(boxes[i].size(0)), 4*K] over the concatenated boxes -> [sum, K, 4]
  // (torchvision's BoxCoder.decode).
  torch::Tensor Decode(const torch::Tensor& rel_codes, const std::vector<torch::Tensor>& boxes) const;

  const std::array<double, 4>& weights() const { return weights_; }

 private:
  std::array<double, 4> weights_;
  double bbox_xform_clip_;
};

// Assigns to each prediction (column) the ground-truth (row) of highest IoU, as det_utils.Matcher:
// result [N] int64 = gt index, kBelowLowThreshold (IoU < low) or kBetweenThresholds (low <= IoU <
// high). With allow_low_quality_matches, predictions that are the best match of some gt keep that
// match whatever their IoU.
class Matcher {
 public:
  static constexpr int64_t kBelowLowThreshold = -1;
  static constexpr int64_t kBetweenThresholds = -2;

  Matcher(double high_threshold, double low_threshold, bool allow_low_quality_matches = false);

  // match_quality_matrix [M gt, N predictions]. Throws UsageError if M == 0 (callers handle
  // images without boxes themselves, as torchvision does).
  torch::Tensor operator()(const torch::Tensor& match_quality_matrix) const;

 private:
  double high_threshold_;
  double low_threshold_;
  bool allow_low_quality_matches_;
};

// Samples positives (matched_idxs >= 1) and negatives (== 0) per image, at most
// batch_size_per_image with at most positive_fraction positives, as det_utils'
// BalancedPositiveNegativeSampler: uses torch::randperm, so it follows torch's global generator
// (torch::manual_seed).
class BalancedPositiveNegativeSampler {
 public:
  BalancedPositiveNegativeSampler(int64_t batch_size_per_image, double positive_fraction);

  // matched_idxs per image: labels [N_i] (int64; 1.. = positive, 0 = negative, -1 = ignore).
  // Returns {positive masks, negative masks}: per image [N_i] uint8.
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> operator()(
      const std::vector<torch::Tensor>& matched_idxs) const;

 private:
  int64_t batch_size_per_image_;
  double positive_fraction_;
};

}  // namespace segtune::detection
