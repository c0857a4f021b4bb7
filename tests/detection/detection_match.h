// Comparing a model's detections with a reference's when scores may be tied.
//
// Detections come out sorted by score. Two detections whose scores differ by less than the float rounding
// between two implementations (or two CPUs) may come out in either order, and which of two overlapping
// boxes of the same class survives NMS may flip too. A position-by-position comparison then fails on a
// correct model. MatchDetections compares position by position wherever the reference's scores are
// apart, and matches within groups of tied scores (same label, highest IoU), so every detection must
// still be accounted for.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

namespace segtune::testing {

struct DetectionList {
  torch::Tensor boxes;   // [N,4] x1,y1,x2,y2
  torch::Tensor scores;  // [N], sorted descending
  torch::Tensor labels;  // [N]
  torch::Tensor masks;   // [N,1,H,W] or undefined
};

struct DetectionTolerance {
  double box = 0;    // Pixels, per coordinate.
  double score = 0;  // Absolute; also the width of a tie.
  double mask = 0;   // Absolute, per pixel probability.
};

struct DetectionMatchResult {
  std::vector<std::string> problems;  // Empty when every detection matched within tolerance.
  int64_t matched = 0;
  int64_t matched_in_ties = 0;        // Matched to another position inside a group of tied scores.
  int64_t unmatched_at_limits = 0;    // Tied with the score threshold or the last kept detection.
  double max_box_diff = 0;
  double max_score_diff = 0;
  double max_mask_diff = 0;
};

inline double BoxIou(const double* a, const double* b) {
  const double iw = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double ih = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const double inter = iw * ih;
  const double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

// Matches `got` to `ref` (both sorted by descending score). A reference detection is "tied" when a
// neighbour's score is within 2 * tol.score. Untied ones must sit at the same position in `got`; tied
// ones take the unmatched detection of the same label with a score within tol.score and the highest IoU.
// A detection may stay unmatched only when its score is within tol.score of `score_threshold` or, when
// the list holds `max_detections`, of the last kept score (the tie decided which one made the cut).
// Matched pairs are checked against tol: every coordinate, the score and every mask pixel.
inline DetectionMatchResult MatchDetections(const DetectionList& got, const DetectionList& ref,
                                            const DetectionTolerance& tol, double score_threshold,
                                            int64_t max_detections) {
  DetectionMatchResult result;
  const torch::Tensor gb = got.boxes.to(torch::kDouble).contiguous(), rb = ref.boxes.to(torch::kDouble).contiguous();
  const torch::Tensor gs = got.scores.to(torch::kDouble).contiguous(), rs = ref.scores.to(torch::kDouble).contiguous();
  const torch::Tensor gl = got.labels.to(torch::kLong).contiguous(), rl = ref.labels.to(torch::kLong).contiguous();
  const int64_t n_got = gs.numel(), n_ref = rs.numel();
  const double* gsp = gs.data_ptr<double>();
  const double* rsp = rs.data_ptr<double>();
  const int64_t* glp = gl.data_ptr<int64_t>();
  const int64_t* rlp = rl.data_ptr<int64_t>();
  const double* gbp = gb.data_ptr<double>();
  const double* rbp = rb.data_ptr<double>();
  auto tied = [&](const double* s, int64_t n, int64_t i) {
    return (i > 0 && std::abs(s[i] - s[i - 1]) <= 2 * tol.score) ||
           (i + 1 < n && std::abs(s[i] - s[i + 1]) <= 2 * tol.score);
  };
  auto at_limit = [&](const double* s, int64_t n, int64_t i) {
    return std::abs(s[i] - score_threshold) <= tol.score ||
           (n == max_detections && std::abs(s[i] - s[n - 1]) <= 2 * tol.score);
  };
  std::vector<int64_t> match(n_ref, -1);
  std::vector<bool> used(n_got, false);
  // Untied reference detections first: they must be at their own position.
  for (int64_t i = 0; i < n_ref; ++i) {
    if (tied(rsp, n_ref, i)) continue;
    if (i < n_got && !used[i] && glp[i] == rlp[i] && std::abs(gsp[i] - rsp[i]) <= tol.score) {
      match[i] = i;
      used[i] = true;
    }
  }
  // Then every remaining one, among the unmatched detections of its label with a tied score.
  for (int64_t i = 0; i < n_ref; ++i) {
    if (match[i] >= 0) continue;
    int64_t best = -1;
    double best_iou = -1;
    for (int64_t j = 0; j < n_got; ++j) {
      if (used[j] || glp[j] != rlp[i] || std::abs(gsp[j] - rsp[i]) > tol.score) continue;
      const double iou = BoxIou(gbp + 4 * j, rbp + 4 * i);
      if (iou > best_iou) best_iou = iou, best = j;
    }
    if (best >= 0 && (tied(rsp, n_ref, i) || best == i)) {
      match[i] = best;
      used[best] = true;
      if (best != i) ++result.matched_in_ties;
    }
  }
  for (int64_t i = 0; i < n_ref; ++i) {
    if (match[i] >= 0) continue;
    if (at_limit(rsp, n_ref, i)) {
      ++result.unmatched_at_limits;
    } else {
      result.problems.push_back("reference detection " + std::to_string(i) + " (label " + std::to_string(rlp[i]) +
                                ", score " + std::to_string(rsp[i]) + ") has no match");
    }
  }
  for (int64_t j = 0; j < n_got; ++j) {
    if (!used[j] && !at_limit(gsp, n_got, j)) {
      result.problems.push_back("detection " + std::to_string(j) + " (label " + std::to_string(glp[j]) + ", score " +
                                std::to_string(gsp[j]) + ") is not in the reference");
    }
  }
  for (int64_t i = 0; i < n_ref; ++i) {
    const int64_t j = match[i];
    if (j < 0) continue;
    ++result.matched;
    double box = 0;
    for (int c = 0; c < 4; ++c) box = std::max(box, std::abs(gbp[4 * j + c] - rbp[4 * i + c]));
    result.max_box_diff = std::max(result.max_box_diff, box);
    result.max_score_diff = std::max(result.max_score_diff, std::abs(gsp[j] - rsp[i]));
    if (box > tol.box) {
      result.problems.push_back("detection " + std::to_string(j) + " matched to reference " + std::to_string(i) +
                                ": box differs by " + std::to_string(box) + " px");
    }
    if (ref.masks.defined() && got.masks.defined()) {
      const double mask = (got.masks[j].to(torch::kDouble) - ref.masks[i].to(torch::kDouble)).abs().max().item<double>();
      result.max_mask_diff = std::max(result.max_mask_diff, mask);
      if (mask > tol.mask) {
        result.problems.push_back("detection " + std::to_string(j) + " matched to reference " + std::to_string(i) +
                                  ": mask differs by " + std::to_string(mask));
      }
    }
  }
  return result;
}

}  // namespace segtune::testing
