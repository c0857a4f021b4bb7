// Painting helpers shared by the synthetic generator's sprites and backgrounds: colors, noise,
// gradients and shading. All images are CV_8UC3 BGR; every random choice comes from a synth::Random
// so output is a pure function of the seed.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "segtune/data/synth/synth_random.h"

namespace segtune::synth {

// BGR color from hue in degrees [0, 360), saturation and value in [0, 1].
cv::Vec3b HsvColor(double hue, double saturation, double value);
// A random color with saturation and value drawn from the given ranges.
cv::Vec3b RandomColor(Random& rng, double sat_lo, double sat_hi, double val_lo, double val_hi);
// Multiplies a color's channels by `gain` (saturating).
inline cv::Vec3b Scale(cv::Vec3b color, double gain) {
  return {cv::saturate_cast<uchar>(color[0] * gain), cv::saturate_cast<uchar>(color[1] * gain),
          cv::saturate_cast<uchar>(color[2] * gain)};
}
// Linear mix: t = 0 gives a, t = 1 gives b.
inline cv::Vec3b Mix(cv::Vec3b a, cv::Vec3b b, double t) {
  return {cv::saturate_cast<uchar>(a[0] + (b[0] - a[0]) * t), cv::saturate_cast<uchar>(a[1] + (b[1] - a[1]) * t),
          cv::saturate_cast<uchar>(a[2] + (b[2] - a[2]) * t)};
}
cv::Scalar ToScalar(cv::Vec3b color);

// Adds zero-mean Gaussian noise of the given standard deviation to every channel (saturating).
void AddNoise(cv::Mat& image, double sigma, Random& rng);
// Smooth random field in about [-1, 1]: `cells` x `cells` random values resized with bicubic
// interpolation (cells >= 2). CV_32F of `size`.
cv::Mat SmoothNoise(cv::Size size, int cells, Random& rng);
// Multiplies each pixel by 1 + amount * field(x, y) (field CV_32F of the image's size).
void Modulate(cv::Mat& image, const cv::Mat& field, double amount);
// Linear gradient from `from` to `to` along the direction `angle` (radians).
void FillGradient(cv::Mat& image, cv::Vec3b from, cv::Vec3b to, double angle);
// Cylinder lighting across the columns [x0, x1) of `image`: Lambert diffuse from a light at
// `light` (-1 left .. 1 right) plus a specular highlight of strength `specular` (0..1).
void ShadeCylinder(cv::Mat& image, int x0, int x1, double light, double ambient, double specular);
// The same lighting for a body of revolution about the vertical line x = axis: row y is shaded
// across [axis - half_width[y], axis + half_width[y]] (rows with half_width <= 0 are left alone).
void ShadeRevolved(cv::Mat& image, double axis, const std::vector<double>& half_width, double light,
                   double ambient, double specular);

}  // namespace segtune::synth
