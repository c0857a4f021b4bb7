// Internal stages of EvaluateCoco (coco_eval.h), one file each, mirroring cocoeval.py:
//   PrepareCocoEval  (coco_eval_prepare.cpp)   ~ COCO.loadRes + COCOeval._prepare
//   EvaluateCells    (coco_eval_match.cpp)     ~ COCOeval.computeIoU + evaluateImg
//   AccumulateCells  (coco_eval_accumulate.cpp) ~ COCOeval.accumulate
//   SummarizeStats   (coco_eval_summarize.cpp) ~ COCOeval.summarize
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "segtune/formats/rle.h"
#include "segtune/evaluation/coco_eval.h"

namespace segtune::coco_eval_internal {

// Parameters after COCOeval.evaluate()'s normalisation (unique/sorted ids, sorted maxDets).
struct ResolvedParams {
  CocoIouType iou_type = CocoIouType::kBbox;
  std::vector<ImageId> img_ids;
  std::vector<int64_t> cat_ids;  // {-1} when !use_cats (accumulate's K = 1).
  std::vector<int> max_dets;
  std::vector<double> iou_thrs, rec_thrs;
  std::vector<CocoAreaRange> area_rng;
  bool use_cats = true;
  CocoResultsKind results_kind = CocoResultsKind::kAuto;
  int threads = 1;
  std::string gt_source, dt_source;  // For errors.
};

struct GtItem {
  int64_t id = 0;
  double area = 0;
  bool crowd = false;
  std::array<double, 4> box{};
  Rle mask;  // segm only.
};

struct DtItem {
  double score = 0;
  double area = 0;
  std::array<double, 4> box{};
  Rle mask;  // segm only.
};

// True if a detection scored `a` ranks before one scored `b`: np.argsort(-scores, kind='mergesort')
// order used by evaluateImg and accumulate (descending score, NaN last; callers sort stably).
inline bool ScoreBefore(double a, double b) {
  const double ka = -a, kb = -b;
  return ka < kb || (kb != kb && ka == ka);
}

// Ground truths and detections grouped by cell = image index * K + category index (K = number of
// categories, or 1 without use_cats), in the order cocoeval.py lists them for that cell.
struct PreparedEval {
  ResolvedParams params;
  std::vector<std::string> cat_names;
  size_t num_cells = 0;
  std::vector<GtItem> gts;
  std::vector<DtItem> dts;
  std::vector<uint32_t> gt_begin, gt_index;  // CSR: cell c owns gt_index[gt_begin[c] .. gt_begin[c+1]).
  std::vector<uint32_t> dt_begin, dt_index;
  CocoResultsReport report;
};

PreparedEval PrepareCocoEval(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt,
                             const CocoEvalParams& params);

// Per-detection outcome at one IoU threshold and area range, as accumulate() reads dtMatches and
// dtIgnore: a true positive, a false positive, or ignored.
enum DtState : uint8_t { kFalsePositive = 0, kTruePositive = 1, kIgnored = 2 };

// evaluateImg for every cell and area range. Detections of a cell are sorted by score (stable) and
// cut at maxDets[-1]; `dt_sorted` lists them per cell (CSR over `begin`).
struct CellEvaluation {
  std::vector<uint32_t> begin;      // Per cell, into dt_sorted; size num_cells + 1.
  std::vector<uint32_t> dt_sorted;  // Indices into PreparedEval::dts.
  // state[(a * T + t) * dt_sorted.size() + p]; npig[a * num_cells + c] = non-ignored gts.
  std::vector<uint8_t> state;
  std::vector<uint32_t> npig;
};

CellEvaluation EvaluateCells(const PreparedEval& prepared);

struct Accumulated {
  std::vector<double> precision;  // [T][R][K][A][M]
  std::vector<double> recall;     // [T][K][A][M]
};

Accumulated AccumulateCells(const PreparedEval& prepared, const CellEvaluation& cells);

// numpy's mean of the entries > -1 (pairwise summation as np.add.reduce), -1 if there are none.
double MeanOfDefined(const std::vector<double>& values);

// The 12 stats of _summarizeDets from the accumulated arrays.
std::array<double, 12> SummarizeStats(const CocoEvalResult& result);

// Runs fn(i) for i in [0, n) on `threads` threads (dynamic chunks of `chunk`).
void ParallelFor(size_t n, int threads, size_t chunk, const std::function<void(size_t, size_t)>& fn);

}  // namespace segtune::coco_eval_internal
