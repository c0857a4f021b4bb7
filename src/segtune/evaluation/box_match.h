// One image's detections matched to its ground truth by box, as COCOeval matches at one IoU
// threshold: each detection, in the order given (descending score), takes the unmatched non-crowd
// ground truth of its category with the highest IoU >= threshold; a detection left unmatched that
// overlaps a crowd region of its category by >= threshold is "on crowd" (COCOeval ignores it).
// Shared by the error breakdown and the detection gallery.
#pragma once

#include <cstddef>
#include <vector>

#include "segtune/formats/coco.h"

namespace segtune {

struct BoxMatch {
  std::vector<double> iou;        // [detection][ground truth], row-major; crowd: over the detection's area.
  std::vector<int> gt_of_dt;      // Per detection: the index of its ground truth, or -1.
  std::vector<bool> dt_on_crowd;  // Per detection: unmatched and on a crowd region.
  std::vector<bool> gt_matched;   // Per ground truth.
};

// use_cats = false: categories are ignored (any detection may match any ground truth).
BoxMatch MatchBoxes(const std::vector<const CocoAnnotation*>& detections,
                    const std::vector<const CocoAnnotation*>& groundtruth, bool use_cats, double threshold);

}  // namespace segtune
