// Where a detector's box AP goes: every detection that is not a true positive, and every ground
// truth it misses, gets one error type, and each type's cost is the AP50 gained by fixing only those
// errors (the method of TIDE, Bolya et al., ECCV 2020; none of pycocotools, Detectron2 or the TF OD
// API reports it).
//
// Per image, detections in descending score order (the top max_dets = 100), IoU by box:
//   true positive   IoU >= 0.5 with an unmatched ground truth of its class (the best one, as COCOeval)
//   duplicate       IoU >= 0.5 with a ground truth of its class that a higher score already matched
//   classification  IoU >= 0.5 with a ground truth of another class
//   localization    0.1 <= IoU < 0.5 with a ground truth of its class
//   both            0.1 <= IoU < 0.5 with a ground truth of another class (class and box wrong)
//   background      IoU < 0.1 with every ground truth
//   missed          a ground truth no true positive matched and no classification or localization
//                   error points at
// The first rule that applies wins. Detections on crowd regions of their class are neither (COCO
// ignores them). Fixes, each applied alone: classification takes the ground truth's class,
// localization takes its box, duplicate / both / background detections are removed, missed ground
// truths are removed. delta_ap50 = AP50 after the fix - AP50 as evaluated (both with COCOeval's
// rules at the single IoU threshold 0.5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/evaluation/coco_eval.h"

namespace segtune {

struct ErrorTypeCost {
  std::string type;  // "classification", "localization", "both", "duplicate", "background", "missed".
  int64_t count = 0;
  double delta_ap50 = 0;  // AP50 points (0..1) gained by fixing only these.
};

struct ErrorBreakdown {
  double ap50 = 0;            // AP at IoU 0.5 as evaluated (-1 if undefined: no ground truth).
  int64_t true_positives = 0;
  std::vector<ErrorTypeCost> errors;  // In the order of the header comment.
};

// Box errors of `dt` against `gt`; `params` supplies the images, categories, use_cats and threads
// (its iou_type and thresholds are not used: the breakdown is by box at 0.5 and 0.1).
ErrorBreakdown ComputeErrorBreakdown(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt,
                                     const CocoEvalParams& params);

// {"iou_type": "bbox", "ap50", "true_positives", "errors": [{"type", "count", "delta_ap50"}, ...]}.
nlohmann::json ErrorBreakdownToJson(const ErrorBreakdown& breakdown);

}  // namespace segtune
