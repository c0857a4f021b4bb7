#include "segtune/inference/predict_overlay.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"

namespace segtune {

cv::Vec3b ClassColor(int label) {
  if (label == 0) return {0, 0, 0};
  // Pascal VOC's bit-reversed palette: distinct, stable colors for ids 1..255.
  int r = 0, g = 0, b = 0, c = label;
  for (int j = 0; j < 8; ++j) {
    r |= ((c >> 0) & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return {static_cast<uint8_t>(b), static_cast<uint8_t>(g), static_cast<uint8_t>(r)};
}

namespace {

std::string ClassName(const std::vector<std::string>& names, int label) {
  if (label < static_cast<int>(names.size()) && !names[label].empty()) return names[label];
  return "class " + std::to_string(label);
}

cv::Mat Legend(const std::vector<int64_t>& counts, const std::vector<std::string>& names, int width, double total) {
  std::vector<int> shown;
  for (int k = 1; k < 256; ++k) {
    if (counts[k] > 0) shown.push_back(k);
  }
  const int line = 22;
  cv::Mat legend(line * std::max<size_t>(1, shown.size()) + 6, width, CV_8UC3, cv::Scalar(32, 32, 32));
  if (shown.empty()) {
    cv::putText(legend, "no class predicted", {6, 18}, cv::FONT_HERSHEY_SIMPLEX, 0.5, {230, 230, 230}, 1, cv::LINE_AA);
  }
  for (size_t i = 0; i < shown.size(); ++i) {
    const int y = 4 + static_cast<int>(i) * line;
    const cv::Vec3b color = ClassColor(shown[i]);
    cv::rectangle(legend, {6, y + 2, 16, 16}, cv::Scalar(color[0], color[1], color[2]), cv::FILLED);
    char pct[32];
    std::snprintf(pct, sizeof pct, "  %.1f%%", 100.0 * counts[shown[i]] / total);
    const std::string text = std::to_string(shown[i]) + " " + ClassName(names, shown[i]) + pct;
    cv::putText(legend, text, {28, y + 15}, cv::FONT_HERSHEY_SIMPLEX, 0.5, {230, 230, 230}, 1, cv::LINE_AA);
  }
  return legend;
}

}  // namespace

cv::Mat RenderOverlay(const cv::Mat& image, const cv::Mat& class_map, const std::vector<std::string>& names,
                      double alpha) {
  if (image.type() != CV_8UC3 || class_map.type() != CV_8UC1 || image.size() != class_map.size()) {
    throw Error("RenderOverlay: expected a BGR image and a class map of the same size");
  }
  cv::Mat tinted = image.clone();
  std::vector<int64_t> counts(256, 0);
  for (int r = 0; r < image.rows; ++r) {
    const uint8_t* labels = class_map.ptr<uint8_t>(r);
    cv::Vec3b* out = tinted.ptr<cv::Vec3b>(r);
    for (int c = 0; c < image.cols; ++c) {
      ++counts[labels[c]];
      if (labels[c] == 0) continue;
      const cv::Vec3b color = ClassColor(labels[c]);
      for (int ch = 0; ch < 3; ++ch) out[c][ch] = cv::saturate_cast<uint8_t>((1 - alpha) * out[c][ch] + alpha * color[ch]);
    }
  }
  // Outline class boundaries so neighbouring regions stay distinguishable.
  cv::Mat edges;
  cv::Mat grad_x, grad_y;
  cv::Sobel(class_map, grad_x, CV_16S, 1, 0);
  cv::Sobel(class_map, grad_y, CV_16S, 0, 1);
  edges = (grad_x != 0) | (grad_y != 0);
  tinted.setTo(cv::Scalar(255, 255, 255), edges & (class_map != 0));
  cv::Mat result;
  cv::vconcat(tinted, Legend(counts, names, image.cols, static_cast<double>(image.total())), result);
  return result;
}

}  // namespace segtune
