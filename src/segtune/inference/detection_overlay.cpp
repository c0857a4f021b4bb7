#include "segtune/inference/detection_overlay.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/data/class_colors.h"

namespace segtune {
namespace {

std::string Caption(const DetectedObject& o, const std::vector<std::string>& names) {
  const size_t id = static_cast<size_t>(std::max<int64_t>(o.label, 0));
  const std::string name = id < names.size() && !names[id].empty() ? names[id] : "class " + std::to_string(o.label);
  char score[16];
  std::snprintf(score, sizeof score, " %.2f", o.score);
  return name + score;
}

// Class 0 is drawn black by ClassColor; a detection never has it, but keep boxes visible anyway.
cv::Scalar ObjectColor(int64_t label) {
  const cv::Vec3b c = ClassColor(static_cast<int>(label % 256));
  if (c == cv::Vec3b(0, 0, 0)) return {255, 255, 255};
  return {static_cast<double>(c[0]), static_cast<double>(c[1]), static_cast<double>(c[2])};
}

}  // namespace

cv::Mat RenderDetectionOverlay(const cv::Mat& image, const std::vector<DetectedObject>& objects,
                               const std::vector<std::string>& names, double alpha) {
  if (image.type() != CV_8UC3) throw Error("detection overlay: expected an 8-bit BGR image");
  cv::Mat canvas = image.clone();
  std::vector<size_t> order(objects.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return objects[a].score < objects[b].score; });
  for (size_t i : order) {
    const DetectedObject& o = objects[i];
    if (o.mask.empty()) continue;
    if (o.mask.size() != image.size() || o.mask.type() != CV_8UC1) {
      throw Error("detection overlay: a mask of " + std::to_string(o.mask.cols) + "x" + std::to_string(o.mask.rows) +
                  " for an image of " + std::to_string(image.cols) + "x" + std::to_string(image.rows));
    }
    cv::Mat tinted;
    cv::addWeighted(canvas, 1.0 - alpha, cv::Mat(image.size(), CV_8UC3, ObjectColor(o.label)), alpha, 0.0, tinted);
    tinted.copyTo(canvas, o.mask);
  }
  const int longer = std::max(image.cols, image.rows);
  const int thickness = std::max(1, longer / 300);
  const double font = std::clamp(longer / 1000.0, 0.4, 1.6);
  for (size_t i : order) {
    const DetectedObject& o = objects[i];
    const cv::Scalar color = ObjectColor(o.label);
    const cv::Point top_left(cvRound(o.x1), cvRound(o.y1));
    cv::rectangle(canvas, top_left, {cvRound(o.x2), cvRound(o.y2)}, color, thickness, cv::LINE_AA);
    const std::string text = Caption(o, names);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
    // Above the box when there is room, else inside its top edge.
    const int y = top_left.y - size.height - baseline >= 0 ? top_left.y - baseline : top_left.y + size.height;
    cv::rectangle(canvas, {top_left.x, y - size.height, size.width, size.height + baseline}, color, cv::FILLED);
    cv::putText(canvas, text, {top_left.x, y}, cv::FONT_HERSHEY_SIMPLEX, font, {0, 0, 0}, 1, cv::LINE_AA);
  }
  return canvas;
}

}  // namespace segtune
