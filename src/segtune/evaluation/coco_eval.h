// COCO detection / instance-segmentation evaluation with the semantics of pycocotools' COCOeval
// (evaluate + accumulate + summarize) and the results handling of COCO.loadRes. The 12 summary
// numbers match pycocotools to floating-point rounding; see docs/coco_eval.md for the details kept
// (and the few places where segtune reports instead of crashing).
//
//   CocoEvalParams params;             // Defaults are COCOeval's.
//   params.iou_type = CocoIouType::kSegm;
//   CocoEvalResult r = EvaluateCoco(gt, LoadCocoResults("results.json"), params);
//   std::cout << FormatCocoSummary(r);
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/formats/coco.h"

namespace segtune {

enum class CocoIouType { kBbox, kSegm };

// Parses "bbox" / "segm"; throws UsageError otherwise.
CocoIouType ParseCocoIouType(const std::string& text);
const char* CocoIouTypeName(CocoIouType type);

struct CocoAreaRange {
  std::string label;  // "all", "small", "medium", "large".
  double lo = 0;
  double hi = 0;
};

// What the detections are, i.e. which COCO.loadRes branch reads them (it decides from the first
// result: a non-empty "bbox" key means boxes). Callers should say it:
//   kBoxes: box results. area = w*h; for segm, a result's mask is its segmentation or its box.
//   kMasks: mask results. area from the mask; a missing (all-zero) box is the mask's box.
//   kAuto:  a guess from the content: boxes if the first result has no segmentation, or a box that
//           differs from its mask's box (so it was given, not derived); otherwise masks. Ambiguous
//           for files whose masks come with their own boxes; the coco-eval verb never uses it.
enum class CocoResultsKind { kAuto, kBoxes, kMasks };

struct CocoEvalParams {
  CocoIouType iou_type = CocoIouType::kBbox;
  std::vector<ImageId> img_ids;  // Empty: every image of the ground truth.
  std::vector<int64_t> cat_ids;  // Empty: every category of the ground truth.
  std::vector<int> max_dets = {1, 10, 100};  // Sorted before use, as COCOeval does.
  std::vector<double> iou_thrs;              // Empty: np.linspace(.5, .95, 10).
  std::vector<double> rec_thrs;              // Empty: np.linspace(0, 1, 101).
  std::vector<CocoAreaRange> area_rng;       // Empty: all / small / medium / large (32², 96²).
  bool use_cats = true;  // false: categories are ignored, as in proposal scoring.
  CocoResultsKind results_kind = CocoResultsKind::kAuto;
  int threads = 0;       // 0: all hardware threads.
  std::string gt_source = "ground truth";  // Names the inputs in errors: the files they came from.
  std::string dt_source = "results";
};

// What was done with detections that cannot be evaluated (pycocotools would assert or drop them).
struct CocoResultsReport {
  size_t total = 0;                  // Detections given.
  size_t unknown_image = 0;          // image_id not in the ground truth: dropped.
  size_t unknown_category = 0;       // category_id not in the ground truth: never matched.
  std::vector<std::string> unknown_image_examples;     // Up to 5 ids.
  std::vector<int64_t> unknown_category_examples;      // Up to 5 ids.
};

struct CocoEvalResult {
  // AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (-1 where undefined).
  std::array<double, 12> stats{};
  std::vector<double> iou_thrs, rec_thrs;
  std::vector<CocoAreaRange> area_rng;
  std::vector<int> max_dets;
  std::vector<int64_t> cat_ids;  // Evaluated categories, sorted; with use_cats=false: {-1}.
  std::vector<std::string> cat_names;
  // Per category: AP@[.5:.95] and AP@.5 for area "all" and the largest maxDets; -1 if undefined.
  std::vector<double> per_class_ap, per_class_ap50;
  // COCOeval.eval['precision'] [T][R][K][A][M] and ['recall'] [T][K][A][M], row-major.
  std::vector<double> precision, recall;
  size_t num_images = 0;
  size_t num_gt = 0;  // Ground-truth annotations taking part (any category in cat_ids).
  size_t num_dt = 0;  // Detections taking part.
  CocoResultsReport report;
  CocoIouType iou_type = CocoIouType::kBbox;
  double seconds = 0;  // Wall time of evaluate + accumulate.

  double Precision(size_t t, size_t r, size_t k, size_t a, size_t m) const;
  double Recall(size_t t, size_t k, size_t a, size_t m) const;
};

// Evaluates detections `dt` (a COCO results array, read with LoadCocoResults) against `gt`.
// Results are taken as COCO.loadRes takes them: ids 1..N in file order; if the first result has a
// box, every result is a box result (area = w*h, a missing segmentation becomes the box polygon),
// otherwise a mask result (area and missing box from the mask; polygons are rasterized at the
// image size). Detections on images absent from `gt` are dropped and counted in `report` (pycocotools
// stops with "Results do not correspond to current coco set"; the numbers are those it gives once
// they are removed). Throws UsageError for unusable params (fewer than 3 max_dets).
CocoEvalResult EvaluateCoco(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt,
                            const CocoEvalParams& params);

// The 12 lines COCOeval.summarize() prints, byte for byte.
std::string FormatCocoSummary(const CocoEvalResult& result);
// A table "category | AP | AP50" (one row per category, in cat_ids order).
std::string FormatCocoPerClass(const CocoEvalResult& result);
// {"iou_type", "stats": {"AP": ...}, "stats_list": [12], "per_class": [...], "counts": ...}.
nlohmann::json CocoEvalResultToJson(const CocoEvalResult& result);

}  // namespace segtune
