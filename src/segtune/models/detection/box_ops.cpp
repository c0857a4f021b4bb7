#include "segtune/models/detection/box_ops.h"

#include <torch/torch.h>

#include "segtune/core/error.h"

namespace segtune::detection {

namespace {

using torch::indexing::Slice;

void RequireBoxes(const torch::Tensor& boxes, const char* what) {
  if (boxes.dim() != 2 || boxes.size(1) != 4) {
    throw UsageError(std::string(what) + ": expected boxes of shape [N,4], got " + c10::str(boxes.sizes()));
  }
}

}  // namespace

torch::Tensor BoxArea(const torch::Tensor& boxes) {
  return (boxes.select(1, 2) - boxes.select(1, 0)) * (boxes.select(1, 3) - boxes.select(1, 1));
}

torch::Tensor BoxIou(const torch::Tensor& a, const torch::Tensor& b) {
  RequireBoxes(a, "BoxIou");
  RequireBoxes(b, "BoxIou");
  const torch::Tensor area_a = BoxArea(a);
  const torch::Tensor area_b = BoxArea(b);
  const torch::Tensor lt = torch::max(a.index({Slice(), torch::indexing::None, Slice(0, 2)}), b.index({Slice(), Slice(0, 2)}));
  const torch::Tensor rb = torch::min(a.index({Slice(), torch::indexing::None, Slice(2, 4)}), b.index({Slice(), Slice(2, 4)}));
  torch::Tensor wh = rb - lt;
  if (wh.is_floating_point()) {
    if (wh.scalar_type() != torch::kDouble) wh = wh.to(torch::kFloat);  // torchvision's _upcast
  } else if (wh.scalar_type() != torch::kLong) {
    wh = wh.to(torch::kInt);
  }
  wh = wh.clamp_min(0);
  const torch::Tensor inter = wh.select(2, 0) * wh.select(2, 1);
  const torch::Tensor uni = area_a.unsqueeze(1) + area_b - inter;
  return inter / uni;
}

torch::Tensor ClipBoxesToImage(const torch::Tensor& boxes, ImageSize size) {
  const int64_t dim = boxes.dim();
  const torch::Tensor x = boxes.index({"...", Slice(0, torch::indexing::None, 2)}).clamp(0, size[1]);
  const torch::Tensor y = boxes.index({"...", Slice(1, torch::indexing::None, 2)}).clamp(0, size[0]);
  return torch::stack({x, y}, dim).reshape(boxes.sizes());
}

torch::Tensor RemoveSmallBoxes(const torch::Tensor& boxes, double min_size) {
  const torch::Tensor ws = boxes.select(1, 2) - boxes.select(1, 0);
  const torch::Tensor hs = boxes.select(1, 3) - boxes.select(1, 1);
  return torch::where((ws >= min_size).logical_and(hs >= min_size))[0];
}

torch::Tensor BoxCoder::EncodeSingle(const torch::Tensor& reference_boxes, const torch::Tensor& proposals) const {
  const torch::Tensor w = torch::tensor({weights_[0], weights_[1], weights_[2], weights_[3]},
                                        torch::TensorOptions().dtype(reference_boxes.scalar_type()));
  auto column = [](const torch::Tensor& t, int64_t i) { return t.select(1, i).unsqueeze(1); };
  const torch::Tensor ex_widths = column(proposals, 2) - column(proposals, 0);
  const torch::Tensor ex_heights = column(proposals, 3) - column(proposals, 1);
  const torch::Tensor ex_ctr_x = column(proposals, 0) + 0.5 * ex_widths;
  const torch::Tensor ex_ctr_y = column(proposals, 1) + 0.5 * ex_heights;
  const torch::Tensor gt_widths = column(reference_boxes, 2) - column(reference_boxes, 0);
  const torch::Tensor gt_heights = column(reference_boxes, 3) - column(reference_boxes, 1);
  const torch::Tensor gt_ctr_x = column(reference_boxes, 0) + 0.5 * gt_widths;
  const torch::Tensor gt_ctr_y = column(reference_boxes, 1) + 0.5 * gt_heights;
  const torch::Tensor dx = w[0] * (gt_ctr_x - ex_ctr_x) / ex_widths;
  const torch::Tensor dy = w[1] * (gt_ctr_y - ex_ctr_y) / ex_heights;
  const torch::Tensor dw = w[2] * torch::log(gt_widths / ex_widths);
  const torch::Tensor dh = w[3] * torch::log(gt_heights / ex_heights);
  return torch::cat({dx, dy, dw, dh}, 1);
}

std::vector<torch::Tensor> BoxCoder::Encode(const std::vector<torch::Tensor>& reference_boxes,
                                            const std::vector<torch::Tensor>& proposals) const {
  if (reference_boxes.size() != proposals.size()) {
    throw UsageError("BoxCoder::Encode: " + std::to_string(reference_boxes.size()) + " reference box sets for " +
                     std::to_string(proposals.size()) + " proposal sets");
  }
  std::vector<int64_t> counts;
  for (const auto& b : reference_boxes) counts.push_back(b.size(0));
  const torch::Tensor targets = EncodeSingle(torch::cat(reference_boxes, 0), torch::cat(proposals, 0));
  return targets.split_with_sizes(counts, 0);
}

torch::Tensor BoxCoder::DecodeSingle(const torch::Tensor& rel_codes, const torch::Tensor& reference) const {
  const torch::Tensor boxes = reference.to(rel_codes.scalar_type());
  const torch::Tensor widths = boxes.select(1, 2) - boxes.select(1, 0);
  const torch::Tensor heights = boxes.select(1, 3) - boxes.select(1, 1);
  const torch::Tensor ctr_x = boxes.select(1, 0) + 0.5 * widths;
  const torch::Tensor ctr_y = boxes.select(1, 1) + 0.5 * heights;
  auto every4 = [&](int64_t start) { return rel_codes.index({Slice(), Slice(start, torch::indexing::None, 4)}); };
  const torch::Tensor dx = every4(0) / weights_[0];
  const torch::Tensor dy = every4(1) / weights_[1];
  const torch::Tensor dw = (every4(2) / weights_[2]).clamp_max(bbox_xform_clip_);
  const torch::Tensor dh = (every4(3) / weights_[3]).clamp_max(bbox_xform_clip_);
  const torch::Tensor pred_ctr_x = dx * widths.unsqueeze(1) + ctr_x.unsqueeze(1);
  const torch::Tensor pred_ctr_y = dy * heights.unsqueeze(1) + ctr_y.unsqueeze(1);
  const torch::Tensor pred_w = torch::exp(dw) * widths.unsqueeze(1);
  const torch::Tensor pred_h = torch::exp(dh) * heights.unsqueeze(1);
  const torch::Tensor half = torch::tensor(0.5, torch::TensorOptions().dtype(rel_codes.scalar_type()));
  const torch::Tensor c_to_c_h = half * pred_h;
  const torch::Tensor c_to_c_w = half * pred_w;
  return torch::stack({pred_ctr_x - c_to_c_w, pred_ctr_y - c_to_c_h, pred_ctr_x + c_to_c_w, pred_ctr_y + c_to_c_h}, 2)
      .flatten(1);
}

torch::Tensor BoxCoder::Decode(const torch::Tensor& rel_codes, const std::vector<torch::Tensor>& boxes) const {
  int64_t box_sum = 0;
  for (const auto& b : boxes) box_sum += b.size(0);
  const torch::Tensor codes = box_sum > 0 ? rel_codes.reshape({box_sum, -1}) : rel_codes;
  torch::Tensor pred = DecodeSingle(codes, torch::cat(boxes, 0));
  return box_sum > 0 ? pred.reshape({box_sum, -1, 4}) : pred;
}

Matcher::Matcher(double high_threshold, double low_threshold, bool allow_low_quality_matches)
    : high_threshold_(high_threshold),
      low_threshold_(low_threshold),
      allow_low_quality_matches_(allow_low_quality_matches) {
  if (low_threshold > high_threshold) {
    throw UsageError("Matcher: low_threshold " + std::to_string(low_threshold) + " exceeds high_threshold " +
                     std::to_string(high_threshold));
  }
}

torch::Tensor Matcher::operator()(const torch::Tensor& match_quality_matrix) const {
  if (match_quality_matrix.numel() == 0) {
    throw UsageError(match_quality_matrix.size(0) == 0
                         ? "Matcher: no ground-truth boxes available for one of the images during training"
                         : "Matcher: no proposal boxes available for one of the images during training");
  }
  auto [matched_vals, matches] = match_quality_matrix.max(0);
  const torch::Tensor all_matches = allow_low_quality_matches_ ? matches.clone() : torch::Tensor();
  const torch::Tensor below = matched_vals < low_threshold_;
  const torch::Tensor between = (matched_vals >= low_threshold_).logical_and(matched_vals < high_threshold_);
  matches.index_put_({below}, kBelowLowThreshold);
  matches.index_put_({between}, kBetweenThresholds);
  if (allow_low_quality_matches_) {
    // Every prediction that is the best match (ties included) of some gt keeps its best gt.
    const torch::Tensor highest_per_gt = std::get<0>(match_quality_matrix.max(1));
    const torch::Tensor pred_inds = torch::where(match_quality_matrix == highest_per_gt.unsqueeze(1))[1];
    matches.index_put_({pred_inds}, all_matches.index({pred_inds}));
  }
  return matches;
}

BalancedPositiveNegativeSampler::BalancedPositiveNegativeSampler(int64_t batch_size_per_image, double positive_fraction)
    : batch_size_per_image_(batch_size_per_image), positive_fraction_(positive_fraction) {}

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> BalancedPositiveNegativeSampler::operator()(
    const std::vector<torch::Tensor>& matched_idxs) const {
  std::vector<torch::Tensor> pos_masks, neg_masks;
  for (const auto& labels : matched_idxs) {
    const torch::Tensor positive = torch::where(labels >= 1)[0];
    const torch::Tensor negative = torch::where(labels == 0)[0];
    const int64_t num_pos =
        std::min<int64_t>(positive.numel(), static_cast<int64_t>(batch_size_per_image_ * positive_fraction_));
    const int64_t num_neg = std::min<int64_t>(negative.numel(), batch_size_per_image_ - num_pos);
    // Two randperm draws in this order, as torchvision, so a shared seed gives the same sample.
    const torch::Tensor perm1 = torch::randperm(positive.numel(), torch::kLong).slice(0, 0, num_pos);
    const torch::Tensor perm2 = torch::randperm(negative.numel(), torch::kLong).slice(0, 0, num_neg);
    torch::Tensor pos_mask = torch::zeros_like(labels, torch::kUInt8);
    torch::Tensor neg_mask = torch::zeros_like(labels, torch::kUInt8);
    pos_mask.index_put_({positive.index({perm1})}, 1);
    neg_mask.index_put_({negative.index({perm2})}, 1);
    pos_masks.push_back(pos_mask);
    neg_masks.push_back(neg_mask);
  }
  return {pos_masks, neg_masks};
}

}  // namespace segtune::detection
