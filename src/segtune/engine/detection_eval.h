// COCO box (and mask) AP of a detection model on an eval set, built in memory the way torchvision's
// detection reference does (convert_to_coco_api + CocoEvaluator): ground truth from the records,
// detections as COCO results, masks thresholded at 0.5 and RLE-encoded, evaluated by
// evaluation/coco_eval (pycocotools semantics).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "segtune/formats/coco.h"
#include "segtune/data/detection_dataset.h"
#include "segtune/evaluation/coco_eval.h"
#include "segtune/models/detection/types.h"

namespace segtune {

struct DetectionApResult {
  CocoEvalResult box;
  std::optional<CocoEvalResult> mask;  // Mask R-CNN only.
};

class DetectionEvalAccumulator {
 public:
  // Categories 1..num_classes-1, named by class_names[id] when given (else "class_<id>").
  DetectionEvalAccumulator(int num_classes, const std::vector<std::string>& class_names, bool masks);

  // One eval image: its ground truth (boxes in the image's pixels, crowd flags, masks) and the
  // model's detections for it (eval mode: boxes in the same pixels, masks [N,1,H,W] probabilities).
  void Add(const DetectionSample& ground_truth, const detection::Detections& detections);

  // COCOeval over everything added (threads 0 = all cores).
  DetectionApResult Evaluate(int threads) const;

  const CocoDataset& ground_truth() const { return gt_; }
  const std::vector<CocoAnnotation>& box_results() const { return boxes_; }

 private:
  CocoDataset gt_;
  std::vector<CocoAnnotation> boxes_, masks_;
  bool with_masks_;
};

}  // namespace segtune
