#include "segtune/data/augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"

namespace segtune {

bool AugmentOptions::enabled() const {
  return horizontal_flip_probability > 0 || vertical_flip_probability > 0 || min_scale != 1 || max_scale != 1 ||
         crop_height > 0 || brightness_delta > 0 || contrast_min != 1 || contrast_max != 1 || saturation_min != 1 ||
         saturation_max != 1 || hue_delta > 0;
}

namespace {

float Uniform(std::mt19937_64& rng, float lo, float hi) {
  // Not std::uniform_real_distribution: its output is implementation-defined; this is the same everywhere.
  const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  return static_cast<float>(lo + (hi - lo) * u);
}

void PadTo(int height, int width, int ignore_label, cv::Mat* image, cv::Mat* label) {
  const int bottom = std::max(0, height - image->rows), right = std::max(0, width - image->cols);
  if (bottom == 0 && right == 0) return;
  cv::copyMakeBorder(*image, *image, 0, bottom, 0, right, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  cv::copyMakeBorder(*label, *label, 0, bottom, 0, right, cv::BORDER_CONSTANT, cv::Scalar(ignore_label));
}

void Scale(float factor, cv::Mat* image, cv::Mat* label) {
  const int h = std::max(1, static_cast<int>(std::lround(image->rows * factor)));
  const int w = std::max(1, static_cast<int>(std::lround(image->cols * factor)));
  if (h == image->rows && w == image->cols) return;
  cv::resize(*image, *image, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  cv::resize(*label, *label, cv::Size(w, h), 0, 0, cv::INTER_NEAREST);
}

void RandomCrop(std::mt19937_64& rng, int crop_h, int crop_w, int ignore_label, cv::Mat* image, cv::Mat* label) {
  PadTo(crop_h, crop_w, ignore_label, image, label);
  const int y = static_cast<int>(rng() % static_cast<uint64_t>(image->rows - crop_h + 1));
  const int x = static_cast<int>(rng() % static_cast<uint64_t>(image->cols - crop_w + 1));
  const cv::Rect window(x, y, crop_w, crop_h);
  *image = (*image)(window).clone();
  *label = (*label)(window).clone();
}

// Brightness, contrast and saturation on float RGB in [0, 255]; hue through HSV.
void ColorJitter(const AugmentOptions& o, std::mt19937_64& rng, cv::Mat* image) {
  const float brightness = o.brightness_delta > 0 ? Uniform(rng, -o.brightness_delta, o.brightness_delta) * 255.f : 0.f;
  const float contrast = Uniform(rng, o.contrast_min, o.contrast_max);
  const float saturation = Uniform(rng, o.saturation_min, o.saturation_max);
  const float hue = o.hue_delta > 0 ? Uniform(rng, -o.hue_delta, o.hue_delta) : 0.f;
  cv::Mat f;
  image->convertTo(f, CV_32FC3);
  if (brightness != 0) f += cv::Scalar::all(brightness);
  if (contrast != 1) {
    const cv::Scalar mean = cv::mean(f);
    const double m = (mean[0] + mean[1] + mean[2]) / 3;
    f = (f - cv::Scalar::all(m)) * contrast + cv::Scalar::all(m);
  }
  if (saturation != 1) {
    cv::Mat gray, gray3;
    cv::cvtColor(f, gray, cv::COLOR_RGB2GRAY);
    cv::cvtColor(gray, gray3, cv::COLOR_GRAY2RGB);
    f = gray3 + (f - gray3) * saturation;
  }
  if (hue != 0) {
    cv::Mat clipped, hsv;
    cv::min(cv::max(f, 0.0), 255.0, clipped);
    clipped /= 255.0;
    cv::cvtColor(clipped, hsv, cv::COLOR_RGB2HSV);  // H in degrees [0, 360).
    std::vector<cv::Mat> ch;
    cv::split(hsv, ch);
    ch[0] += hue * 360.f;
    for (int r = 0; r < ch[0].rows; ++r) {
      float* h = ch[0].ptr<float>(r);
      for (int c = 0; c < ch[0].cols; ++c) h[c] = std::fmod(h[c] + 360.f, 360.f);
    }
    cv::merge(ch, hsv);
    cv::cvtColor(hsv, f, cv::COLOR_HSV2RGB);
    f *= 255.0;
  }
  f.convertTo(*image, CV_8UC3);  // Saturates to [0, 255].
}

}  // namespace

void Augment(const AugmentOptions& o, std::mt19937_64& rng, int ignore_label, cv::Mat* image, cv::Mat* label) {
  // Draw every decision even when an option is off, so one option never shifts another's randomness.
  const bool hflip = Uniform(rng, 0, 1) < o.horizontal_flip_probability;
  const bool vflip = Uniform(rng, 0, 1) < o.vertical_flip_probability;
  const float scale = Uniform(rng, o.min_scale, o.max_scale);
  if (hflip) {
    cv::flip(*image, *image, 1);
    cv::flip(*label, *label, 1);
  }
  if (vflip) {
    cv::flip(*image, *image, 0);
    cv::flip(*label, *label, 0);
  }
  if (o.min_scale != 1 || o.max_scale != 1) Scale(scale, image, label);
  if (o.crop_height > 0 && o.crop_width > 0) RandomCrop(rng, o.crop_height, o.crop_width, ignore_label, image, label);
  if (o.brightness_delta > 0 || o.contrast_min != 1 || o.contrast_max != 1 || o.saturation_min != 1 ||
      o.saturation_max != 1 || o.hue_delta > 0) {
    ColorJitter(o, rng, image);
  }
}

cv::Size KeepAspectRatioSize(int height, int width, int min_dimension, int max_dimension) {
  const double short_side = std::min(height, width), long_side = std::max(height, width);
  double factor = min_dimension / short_side;
  if (std::lround(long_side * factor) > max_dimension) factor = max_dimension / long_side;
  return cv::Size(std::max(1, static_cast<int>(std::lround(width * factor))),
                  std::max(1, static_cast<int>(std::lround(height * factor))));
}

void ApplyResize(const ResizePolicy& p, int ignore_label, cv::Mat* image, cv::Mat* label) {
  cv::Size size(image->cols, image->rows);
  if (p.kind == ResizePolicy::Kind::kFixedShape) {
    if (p.width < 1 || p.height < 1) {
      throw Error("fixed_shape_resizer: height and width must be >= 1, got " + std::to_string(p.height) + "x" +
                  std::to_string(p.width) + " (pipeline config image_resizer)");
    }
    size = cv::Size(p.width, p.height);
  }
  if (p.kind == ResizePolicy::Kind::kKeepAspectRatio) {
    size = KeepAspectRatioSize(image->rows, image->cols, p.min_dimension, p.max_dimension);
  }
  if (size.width != image->cols || size.height != image->rows) {
    cv::resize(*image, *image, size, 0, 0, p.interpolation);
    cv::resize(*label, *label, size, 0, 0, cv::INTER_NEAREST);
  }
  if (p.kind == ResizePolicy::Kind::kKeepAspectRatio && p.pad_to_max_dimension) {
    PadTo(p.max_dimension, p.max_dimension, ignore_label, image, label);
  }
}

}  // namespace segtune
