#include "segtune/evaluation/box_match.h"

#include <array>

#include "segtune/formats/rle.h"

namespace segtune {

BoxMatch MatchBoxes(const std::vector<const CocoAnnotation*>& detections,
                    const std::vector<const CocoAnnotation*>& groundtruth, bool use_cats, double threshold) {
  std::vector<std::array<double, 4>> dt_boxes, gt_boxes;
  std::vector<bool> crowd;
  for (const CocoAnnotation* d : detections) dt_boxes.push_back(d->bbox);
  for (const CocoAnnotation* g : groundtruth) {
    gt_boxes.push_back(g->bbox);
    crowd.push_back(g->iscrowd);
  }
  BoxMatch m;
  m.iou = BboxIou(dt_boxes, gt_boxes, crowd);
  m.gt_of_dt.assign(detections.size(), -1);
  m.dt_on_crowd.assign(detections.size(), false);
  m.gt_matched.assign(groundtruth.size(), false);
  const size_t n = groundtruth.size();
  for (size_t i = 0; i < detections.size(); ++i) {
    double best = threshold;
    bool on_crowd = false;
    for (size_t j = 0; j < n; ++j) {
      if (use_cats && groundtruth[j]->category_id != detections[i]->category_id) continue;
      const double v = m.iou[i * n + j];
      if (groundtruth[j]->iscrowd) {
        on_crowd |= v >= threshold;
      } else if (!m.gt_matched[j] && v >= best) {
        best = v;
        m.gt_of_dt[i] = static_cast<int>(j);
      }
    }
    if (m.gt_of_dt[i] >= 0) {
      m.gt_matched[static_cast<size_t>(m.gt_of_dt[i])] = true;
    } else {
      m.dt_on_crowd[i] = on_crowd;
    }
  }
  return m;
}

}  // namespace segtune
