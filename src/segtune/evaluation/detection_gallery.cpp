#include "segtune/evaluation/detection_gallery.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "segtune/data/class_colors.h"
#include "segtune/evaluation/box_match.h"

namespace segtune {
namespace {

constexpr double kMatchIou = 0.5;

ImageScore Score(const std::string& id, const std::vector<const CocoAnnotation*>& gt,
                 std::vector<const CocoAnnotation*> dt) {
  std::stable_sort(dt.begin(), dt.end(), [](const CocoAnnotation* a, const CocoAnnotation* b) { return *a->score > *b->score; });
  const BoxMatch m = MatchBoxes(dt, gt, /*use_cats=*/true, kMatchIou);
  int tp = 0, fp = 0, missed = 0;
  for (size_t i = 0; i < dt.size(); ++i) {
    if (m.gt_of_dt[i] >= 0) {
      ++tp;
    } else if (!m.dt_on_crowd[i]) {
      ++fp;
    }
  }
  for (size_t j = 0; j < gt.size(); ++j) missed += !m.gt_matched[j] && !gt[j]->iscrowd;
  const double f1 = tp + fp + missed == 0 ? 1.0 : 2.0 * tp / (2.0 * tp + fp + missed);
  return {id, {{"f1", f1}, {"true_positives", double(tp)}, {"false_positives", double(fp)}, {"missed", double(missed)}}};
}

// The image (or black) at panel size with the boxes drawn in their class colour.
cv::Mat Panel(const cv::Mat& image, cv::Size panel, const std::vector<const CocoAnnotation*>& boxes, int height,
              int width) {
  cv::Mat out;
  if (image.empty()) {
    out = cv::Mat(panel, CV_8UC3, cv::Scalar(0, 0, 0));
  } else {
    cv::resize(image, out, panel, 0, 0, cv::INTER_AREA);
  }
  const double sx = double(panel.width) / std::max(1, width), sy = double(panel.height) / std::max(1, height);
  for (const CocoAnnotation* a : boxes) {
    const cv::Vec3b c = ClassColor(static_cast<int>(a->category_id % 256));
    const cv::Point p0(int(a->bbox[0] * sx), int(a->bbox[1] * sy));
    const cv::Point p1(int((a->bbox[0] + a->bbox[2]) * sx), int((a->bbox[1] + a->bbox[3]) * sy));
    // Class 0 is black in the palette; keep every box visible.
    const cv::Scalar color = c == cv::Vec3b(0, 0, 0) ? cv::Scalar(255, 255, 255) : cv::Scalar(c[0], c[1], c[2]);
    cv::rectangle(out, p0, p1, color, 2);
  }
  return out;
}

}  // namespace

DetectionGallery::DetectionGallery(size_t keep, double score_threshold)
    : score_threshold_(score_threshold), worst_(keep) {}

void DetectionGallery::Add(const std::string& id, const std::vector<const CocoAnnotation*>& groundtruth,
                           const std::vector<const CocoAnnotation*>& detections, int height, int width,
                           const std::function<cv::Mat()>& image) {
  std::vector<const CocoAnnotation*> confident;
  for (const CocoAnnotation* d : detections) {
    if (d->score && *d->score >= score_threshold_) confident.push_back(d);
  }
  worst_.Offer(Score(id, groundtruth, confident), [&] {
    cv::Mat picture = image ? image() : cv::Mat();
    if (!picture.empty() && picture.type() != CV_8UC3) picture.release();
    const cv::Size panel = ThumbnailPanelSize({width, height});
    return SideBySideJpeg(Panel(picture, panel, groundtruth, height, width), Panel(picture, panel, confident, height, width));
  });
}

}  // namespace segtune
