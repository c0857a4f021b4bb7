#include "segtune/inference/semantic_overlay.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/data/class_colors.h"

namespace segtune {


namespace {

std::string ClassName(const std::vector<std::string>& names, int label) {
  if (label < static_cast<int>(names.size()) && !names[label].empty()) return names[label];
  return "class " + std::to_string(label);
}

// Sizes of the legend's text and swatches, scaled with the image so the legend reads the same on a
// 64 px thumbnail (never below a legible 0.45 font scale) and on a 4000 px photo.
struct LegendStyle {
  double font = 0.45;
  int thickness = 1;
  int text_height = 0, baseline = 0;
  int line = 0, box = 0, pad = 0;
};

LegendStyle StyleFor(const cv::Size& image) {
  LegendStyle s;
  s.font = std::clamp(std::max(image.width, image.height) / 1000.0, 0.45, 1.6);
  s.thickness = s.font >= 1.0 ? 2 : 1;
  const cv::Size text = cv::getTextSize("Ag%", cv::FONT_HERSHEY_SIMPLEX, s.font, s.thickness, &s.baseline);
  s.text_height = text.height;
  s.box = text.height + s.baseline;
  s.pad = std::max(3, s.box / 3);
  s.line = s.box + s.pad;
  return s;
}

std::vector<std::string> LegendLines(const std::vector<int>& shown, const std::vector<int64_t>& counts,
                                     const std::vector<std::string>& names, double total) {
  std::vector<std::string> lines;
  for (const int k : shown) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "  %.1f%%", 100.0 * counts[k] / total);
    lines.push_back(std::to_string(k) + " " + ClassName(names, k) + pct);
  }
  if (lines.empty()) lines.push_back("no class predicted");
  return lines;
}

// The legend strip: one swatch + "id name pct%" line per class present. At least the image's width,
// wider when the text needs it.
cv::Mat Legend(const std::vector<int64_t>& counts, const std::vector<std::string>& names, const cv::Size& image,
               double total) {
  std::vector<int> shown;
  for (int k = 1; k < 256; ++k) {
    if (counts[k] > 0) shown.push_back(k);
  }
  const LegendStyle s = StyleFor(image);
  const std::vector<std::string> lines = LegendLines(shown, counts, names, total);
  const int text_x = shown.empty() ? s.pad : 2 * s.pad + s.box;
  int width = image.width;
  for (const auto& text : lines) {
    int baseline = 0;
    width = std::max(width, text_x + cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, s.font, s.thickness, &baseline).width +
                                s.pad);
  }
  cv::Mat legend(s.pad + s.line * static_cast<int>(lines.size()), width, CV_8UC3, cv::Scalar(32, 32, 32));
  for (size_t i = 0; i < lines.size(); ++i) {
    const int y = s.pad + static_cast<int>(i) * s.line;
    if (!shown.empty()) {
      const cv::Vec3b color = ClassColor(shown[i]);
      cv::rectangle(legend, {s.pad, y, s.box, s.box}, cv::Scalar(color[0], color[1], color[2]), cv::FILLED);
      cv::rectangle(legend, {s.pad, y, s.box, s.box}, cv::Scalar(200, 200, 200), 1);  // Visible on black too.
    }
    cv::putText(legend, lines[i], {text_x, y + s.text_height}, cv::FONT_HERSHEY_SIMPLEX, s.font, {230, 230, 230},
                s.thickness, cv::LINE_AA);
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
  const cv::Mat legend = Legend(counts, names, image.size(), static_cast<double>(image.total()));
  // The canvas is as wide as the legend needs: a small image sits top-left on the strip's color.
  cv::Mat result(image.rows + legend.rows, legend.cols, CV_8UC3, cv::Scalar(32, 32, 32));
  tinted.copyTo(result(cv::Rect(0, 0, image.cols, image.rows)));
  legend.copyTo(result(cv::Rect(0, image.rows, legend.cols, legend.rows)));
  return result;
}

}  // namespace segtune
