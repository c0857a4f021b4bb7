#include "segtune/data/synth/synth_paint.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace segtune::synth {
namespace {

uchar Clamp8(double v) { return cv::saturate_cast<uchar>(v); }

}  // namespace

cv::Vec3b HsvColor(double hue, double saturation, double value) {
  hue = std::fmod(std::fmod(hue, 360.0) + 360.0, 360.0);
  const double c = value * saturation;
  const double x = c * (1 - std::fabs(std::fmod(hue / 60.0, 2.0) - 1));
  const double m = value - c;
  double r = 0, g = 0, b = 0;
  switch (int(hue / 60.0)) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
  }
  return {Clamp8((b + m) * 255), Clamp8((g + m) * 255), Clamp8((r + m) * 255)};
}

cv::Vec3b RandomColor(Random& rng, double sat_lo, double sat_hi, double val_lo, double val_hi) {
  const double hue = rng.Uniform(0, 360);
  const double sat = rng.Uniform(sat_lo, sat_hi);
  const double val = rng.Uniform(val_lo, val_hi);
  return HsvColor(hue, sat, val);
}

cv::Scalar ToScalar(cv::Vec3b color) { return cv::Scalar(color[0], color[1], color[2]); }

void AddNoise(cv::Mat& image, double sigma, Random& rng) {
  cv::RNG cv_rng(rng.Next());  // OpenCV's generator is specified, so this stays deterministic.
  cv::Mat noise(image.size(), CV_16SC3);
  cv_rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
  cv::Mat sum;
  cv::add(image, noise, sum, cv::noArray(), CV_8UC3);
  image = sum;
}

cv::Mat SmoothNoise(cv::Size size, int cells, Random& rng) {
  cells = std::max(2, cells);
  cv::Mat coarse(cells, cells, CV_32F);
  for (int y = 0; y < cells; ++y) {
    for (int x = 0; x < cells; ++x) coarse.at<float>(y, x) = float(rng.Uniform(-1, 1));
  }
  cv::Mat field;
  cv::resize(coarse, field, size, 0, 0, cv::INTER_CUBIC);
  return field;
}

void Modulate(cv::Mat& image, const cv::Mat& field, double amount) {
  cv::Mat gain, gain3, pixels;
  field.convertTo(gain, CV_32F, amount, 1.0);
  cv::merge(std::vector<cv::Mat>{gain, gain, gain}, gain3);
  image.convertTo(pixels, CV_32FC3);
  cv::multiply(pixels, gain3, pixels);
  pixels.convertTo(image, CV_8UC3);
}

void FillGradient(cv::Mat& image, cv::Vec3b from, cv::Vec3b to, double angle) {
  const double dx = std::cos(angle), dy = std::sin(angle);
  // Project the corners to find the range of the gradient coordinate.
  double lo = 1e9, hi = -1e9;
  for (double cx : {0.0, double(image.cols)}) {
    for (double cy : {0.0, double(image.rows)}) {
      lo = std::min(lo, cx * dx + cy * dy);
      hi = std::max(hi, cx * dx + cy * dy);
    }
  }
  const double span = std::max(1e-6, hi - lo);
  const float d[3] = {float(to[0] - from[0]), float(to[1] - from[1]), float(to[2] - from[2])};
  for (int y = 0; y < image.rows; ++y) {
    auto* row = image.ptr<cv::Vec3b>(y);
    for (int x = 0; x < image.cols; ++x) {
      const float t = float(((x * dx + y * dy) - lo) / span);
      for (int c = 0; c < 3; ++c) row[x][c] = uchar(from[c] + d[c] * t + 0.5f);  // t in [0, 1]: stays in range.
    }
  }
}

void ShadeRevolved(cv::Mat& image, double axis, const std::vector<double>& half_width, double light,
                   double ambient, double specular) {
  const double lx = light, lz = std::sqrt(std::max(0.0, 1 - light * light));
  // Half-vector between the light and a viewer straight ahead, for the specular term.
  const double hn = std::sqrt(lx * lx + (lz + 1) * (lz + 1));
  const double hx = lx / hn, hz = (lz + 1) / hn;
  for (int y = 0; y < image.rows && y < int(half_width.size()); ++y) {
    const double r = half_width[size_t(y)];
    if (r <= 0) continue;
    auto* row = image.ptr<cv::Vec3b>(y);
    const int x0 = std::max(0, int(std::floor(axis - r))), x1 = std::min(image.cols, int(std::ceil(axis + r)));
    for (int x = x0; x < x1; ++x) {
      const double u = std::clamp((x + 0.5 - axis) / r, -1.0, 1.0);  // -1 .. 1 across the body.
      const double nz = std::sqrt(1 - u * u);
      const double gain = ambient + (1 - ambient) * std::max(0.0, u * lx + nz * lz);
      const double shine = 255 * specular * std::pow(std::max(0.0, u * hx + nz * hz), 24);
      for (int c = 0; c < 3; ++c) row[x][c] = Clamp8(row[x][c] * gain + shine);
    }
  }
}

void ShadeCylinder(cv::Mat& image, int x0, int x1, double light, double ambient, double specular) {
  const std::vector<double> half_width(size_t(image.rows), (x1 - x0) / 2.0);
  ShadeRevolved(image, (x0 + x1) / 2.0, half_width, light, ambient, specular);
}

}  // namespace segtune::synth
