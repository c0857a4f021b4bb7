#include "segtune/evaluation/semantic_gallery.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/data/class_colors.h"

namespace segtune {
namespace {

// Mean IoU over the classes either side has, and pixel accuracy; no values without counted pixels.
ImageScore Score(const std::string& id, const cv::Mat& gt, const cv::Mat& pred, int num_classes, int ignore) {
  std::vector<int64_t> both(num_classes, 0), in_gt(num_classes, 0), in_pred(num_classes, 0);
  int64_t counted = 0, correct = 0;
  for (int y = 0; y < gt.rows; ++y) {
    const uint8_t* g = gt.ptr<uint8_t>(y);
    const uint8_t* p = pred.ptr<uint8_t>(y);
    for (int x = 0; x < gt.cols; ++x) {
      if (g[x] == ignore || g[x] >= num_classes || p[x] >= num_classes) continue;
      ++counted;
      ++in_gt[g[x]];
      ++in_pred[p[x]];
      if (g[x] == p[x]) ++both[g[x]], ++correct;
    }
  }
  ImageScore s{id, {}};
  if (counted == 0) return s;
  double sum = 0;
  int classes = 0;
  for (int c = 0; c < num_classes; ++c) {
    const int64_t uni = in_gt[c] + in_pred[c] - both[c];
    if (uni == 0) continue;
    sum += static_cast<double>(both[c]) / static_cast<double>(uni);
    ++classes;
  }
  s.values = {{"mean_iou", sum / classes}, {"pixel_accuracy", static_cast<double>(correct) / static_cast<double>(counted)}};
  return s;
}

// The image with each class tinted in its colour (ClassColor), half and half.
cv::Mat Tinted(const cv::Mat& image, const cv::Mat& classes) {
  cv::Mat out(classes.size(), CV_8UC3);
  for (int y = 0; y < classes.rows; ++y) {
    const uint8_t* c = classes.ptr<uint8_t>(y);
    const cv::Vec3b* in = image.empty() ? nullptr : image.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < classes.cols; ++x) {
      const cv::Vec3b color = ClassColor(c[x]);
      const cv::Vec3b base = in ? in[x] : cv::Vec3b(0, 0, 0);
      o[x] = c[x] == 0 ? base : cv::Vec3b((base[0] + color[0]) / 2, (base[1] + color[1]) / 2, (base[2] + color[2]) / 2);
    }
  }
  return out;
}

std::string Thumbnail(const cv::Mat& gt, const cv::Mat& pred, cv::Mat image) {
  const cv::Size size = ThumbnailPanelSize(gt.size());
  cv::Mat small_gt, small_pred;
  cv::resize(gt, small_gt, size, 0, 0, cv::INTER_NEAREST);
  cv::resize(pred, small_pred, size, 0, 0, cv::INTER_NEAREST);
  if (!image.empty()) cv::resize(image, image, size, 0, 0, cv::INTER_AREA);
  return SideBySideJpeg(Tinted(image, small_gt), Tinted(image, small_pred));
}

}  // namespace

SemanticGallery::SemanticGallery(int num_classes, int ignore_label, size_t keep)
    : num_classes_(num_classes), ignore_label_(ignore_label), worst_(keep) {}

void SemanticGallery::Add(const std::string& id, const cv::Mat& groundtruth, const cv::Mat& prediction,
                          const std::function<cv::Mat()>& image) {
  if (groundtruth.size() != prediction.size() || groundtruth.type() != CV_8UC1 || prediction.type() != CV_8UC1) {
    throw Error(id + ": gallery: ground truth and prediction must be 8-bit class maps of one size");
  }
  const ImageScore s = Score(id, groundtruth, prediction, num_classes_, ignore_label_);
  if (s.values.empty()) return;
  worst_.Offer(s, [&] {
    cv::Mat picture = image ? image() : cv::Mat();
    if (!picture.empty() && picture.type() != CV_8UC3) picture.release();  // Not a BGR picture: classes on black.
    if (!picture.empty() && picture.size() != groundtruth.size()) cv::resize(picture, picture, groundtruth.size());
    return Thumbnail(groundtruth, prediction, picture);
  });
}

}  // namespace segtune
