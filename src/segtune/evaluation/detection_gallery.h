// The gallery of a detection evaluation (image_gallery.h): each image scored by the F1 of its
// confident detections, the worst drawn as [ground-truth boxes | detected boxes] over the image.
//
// Per image, detections with score >= score_threshold in descending score order match the
// unmatched ground truth of their class with the highest IoU >= 0.5 (as COCOeval matches); a
// detection on a crowd region of its class counts as neither. Values: "f1" = 2 TP / (2 TP + FP +
// missed) (1 for an image with nothing to find and nothing found), "true_positives",
// "false_positives", "missed". Per-image AP is not used: on an image with a handful of objects it
// jumps between a few values and says less than the counts.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "segtune/evaluation/image_gallery.h"
#include "segtune/formats/coco.h"

namespace segtune {

class DetectionGallery {
 public:
  explicit DetectionGallery(size_t keep, double score_threshold = 0.5);

  // Scores one image of height x width pixels (boxes in pixels, CocoAnnotation::bbox; detections
  // carry score). `image` returns the BGR image or an empty Mat (boxes on black); it is called
  // only when the image ranks among the `keep` worst so far.
  void Add(const std::string& id, const std::vector<const CocoAnnotation*>& groundtruth,
           const std::vector<const CocoAnnotation*>& detections, int height, int width,
           const std::function<cv::Mat()>& image);

  const std::vector<ImageScore>& scores() const { return worst_.scores(); }
  std::vector<GalleryEntry> Worst() const { return worst_.Worst(); }

 private:
  double score_threshold_;
  WorstImages worst_;
};

}  // namespace segtune
