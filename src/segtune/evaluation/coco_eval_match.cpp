// COCOeval.computeIoU + evaluateImg for every (image, category) cell: score-sorted detections, the
// IoU matrix (boxes or runs), and the greedy matching at each IoU threshold and area range.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "segtune/evaluation/coco_eval_internal.h"

namespace segtune::coco_eval_internal {

namespace {

void SortByScore(const std::vector<DtItem>& dts, uint32_t* first, uint32_t* last) {
  auto before = [&](uint32_t x, uint32_t y) { return ScoreBefore(dts[x].score, dts[y].score); };
  if (last - first <= 32) {  // Insertion sort: stable and allocation-free for the usual few detections.
    for (uint32_t* i = first + 1; i < last; ++i) {
      const uint32_t v = *i;
      uint32_t* j = i;
      for (; j > first && before(v, *(j - 1)); --j) *j = *(j - 1);
      *j = v;
    }
  } else {
    std::stable_sort(first, last, before);
  }
}

// Scratch buffers reused across the cells one thread evaluates.
struct Scratch {
  std::vector<uint32_t> order;
  std::vector<double> ious;
  std::vector<std::array<double, 4>> dt_boxes, gt_boxes;
  std::vector<const Rle*> dt_masks, gt_masks;
  std::vector<uint8_t> crowd, gt_ignore, gt_ignore_sorted, crowd_sorted, gt_matched, dt_out;
  std::vector<uint32_t> gtind;
};

void ComputeIous(const PreparedEval& pe, const uint32_t* gt_items, size_t G, const uint32_t* dt_items, size_t D,
                 Scratch& s) {
  s.ious.resize(D * G);
  if (pe.params.iou_type == CocoIouType::kSegm) {
    s.dt_masks.resize(D);
    s.gt_masks.resize(G);
    for (size_t d = 0; d < D; ++d) s.dt_masks[d] = &pe.dts[dt_items[d]].mask;
    for (size_t g = 0; g < G; ++g) s.gt_masks[g] = &pe.gts[gt_items[g]].mask;
    RleIouInto(s.dt_masks.data(), D, s.gt_masks.data(), G, s.crowd.data(), s.ious.data());
  } else {
    s.dt_boxes.resize(D);
    s.gt_boxes.resize(G);
    for (size_t d = 0; d < D; ++d) s.dt_boxes[d] = pe.dts[dt_items[d]].box;
    for (size_t g = 0; g < G; ++g) s.gt_boxes[g] = pe.gts[gt_items[g]].box;
    BboxIouInto(s.dt_boxes.data(), D, s.gt_boxes.data(), G, s.crowd.data(), s.ious.data());
  }
}

// evaluateImg's matching for one cell, one area range: fills state[t * stride + d] for t < T.
void MatchCell(const PreparedEval& pe, const uint32_t* gt_items, size_t G, const uint32_t* dt_items, size_t D,
               const CocoAreaRange& rng, Scratch& s, uint8_t* state, size_t stride, uint32_t* npig) {
  const auto& thrs = pe.params.iou_thrs;
  // gt['_ignore'], then gtind = argsort(_ignore, mergesort): regular gts first, each group in order.
  s.gt_ignore.resize(G);
  uint32_t regular = 0;
  for (size_t g = 0; g < G; ++g) {
    const GtItem& gt = pe.gts[gt_items[g]];
    s.gt_ignore[g] = gt.crowd || gt.area < rng.lo || gt.area > rng.hi;
    regular += !s.gt_ignore[g];
  }
  *npig = regular;
  s.gtind.clear();
  for (size_t g = 0; g < G; ++g)
    if (!s.gt_ignore[g]) s.gtind.push_back(uint32_t(g));
  for (size_t g = 0; g < G; ++g)
    if (s.gt_ignore[g]) s.gtind.push_back(uint32_t(g));
  s.gt_ignore_sorted.resize(G);
  s.crowd_sorted.resize(G);
  for (size_t g = 0; g < G; ++g) {
    s.gt_ignore_sorted[g] = s.gt_ignore[s.gtind[g]];
    s.crowd_sorted[g] = s.crowd[s.gtind[g]];
  }
  s.dt_out.resize(D);
  for (size_t d = 0; d < D; ++d) {
    const double area = pe.dts[dt_items[d]].area;
    s.dt_out[d] = area < rng.lo || area > rng.hi;
  }
  const bool have_ious = G > 0 && D > 0;  // maskUtils.iou returns [] otherwise: nothing matches.
  s.gt_matched.resize(G);
  for (size_t t = 0; t < thrs.size(); ++t) {
    std::fill(s.gt_matched.begin(), s.gt_matched.end(), 0);
    for (size_t d = 0; d < D; ++d) {
      long m = -1;
      if (have_ious) {
        double iou = std::min(thrs[t], 1 - 1e-10);
        const double* row = &s.ious[d * G];
        for (size_t g = 0; g < G; ++g) {
          if (s.gt_matched[g] && !s.crowd_sorted[g]) continue;  // Taken, and not a crowd.
          if (m > -1 && !s.gt_ignore_sorted[m] && s.gt_ignore_sorted[g]) break;  // Regular match beats ignored gts.
          const double v = row[s.gtind[g]];
          if (v < iou) continue;
          iou = v;
          m = long(g);
        }
      }
      bool ignored = false, matched = false;
      if (m != -1) {
        ignored = s.gt_ignore_sorted[m];
        // dtMatches holds the gt id; pycocotools reads 0 as "unmatched", so a gt with id 0 never counts.
        matched = pe.gts[gt_items[s.gtind[m]]].id != 0;
        s.gt_matched[m] = 1;
      }
      if (!matched && s.dt_out[d]) ignored = true;
      state[t * stride + d] = ignored ? kIgnored : (matched ? kTruePositive : kFalsePositive);
    }
  }
}

}  // namespace

CellEvaluation EvaluateCells(const PreparedEval& pe) {
  const auto& p = pe.params;
  const size_t C = pe.num_cells, T = p.iou_thrs.size(), A = p.area_rng.size();
  const uint32_t max_det = uint32_t(p.max_dets.back());
  CellEvaluation out;
  out.begin.assign(C + 1, 0);
  for (size_t c = 0; c < C; ++c) out.begin[c + 1] = out.begin[c] + std::min(pe.dt_begin[c + 1] - pe.dt_begin[c], max_det);
  const size_t N = out.begin[C];
  out.dt_sorted.resize(N);
  out.state.assign(A * T * N, kIgnored);
  out.npig.assign(A * C, 0);
  ParallelFor(C, p.threads, 512, [&](size_t cb, size_t ce) {
    Scratch s;
    for (size_t c = cb; c < ce; ++c) {
      const uint32_t* gt_items = pe.gt_index.data() + pe.gt_begin[c];
      const size_t G = pe.gt_begin[c + 1] - pe.gt_begin[c];
      const size_t D_all = pe.dt_begin[c + 1] - pe.dt_begin[c];
      if (G == 0 && D_all == 0) continue;
      s.order.assign(pe.dt_index.begin() + pe.dt_begin[c], pe.dt_index.begin() + pe.dt_begin[c + 1]);
      SortByScore(pe.dts, s.order.data(), s.order.data() + s.order.size());
      const size_t D = out.begin[c + 1] - out.begin[c];
      std::copy(s.order.begin(), s.order.begin() + D, out.dt_sorted.begin() + out.begin[c]);
      const uint32_t* dt_items = out.dt_sorted.data() + out.begin[c];
      s.crowd.resize(G);
      for (size_t g = 0; g < G; ++g) s.crowd[g] = pe.gts[gt_items[g]].crowd;
      if (G > 0 && D > 0) ComputeIous(pe, gt_items, G, dt_items, D, s);
      for (size_t a = 0; a < A; ++a) {
        uint8_t* state = out.state.data() + (a * T) * N + out.begin[c];
        MatchCell(pe, gt_items, G, dt_items, D, p.area_rng[a], s, state, N, &out.npig[a * C + c]);
      }
    }
  });
  return out;
}

}  // namespace segtune::coco_eval_internal
