#include "segtune/data/synth/synth_background.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "segtune/data/synth/synth_paint.h"

namespace segtune::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

cv::Mat Wood(cv::Size size, Random& rng) {
  const cv::Vec3b light = HsvColor(rng.Uniform(18, 36), rng.Uniform(0.35, 0.7), rng.Uniform(0.5, 0.85));
  const cv::Vec3b dark = Scale(light, rng.Uniform(0.55, 0.75));
  const cv::Mat warp = SmoothNoise(size, rng.Int(3, 6), rng);
  const double freq = rng.Uniform(0.04, 0.12), plank = size.height * rng.Uniform(0.12, 0.3);
  const double phase = rng.Uniform(0, 10);
  cv::Mat out(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y) {
    auto* row = out.ptr<cv::Vec3b>(y);
    const float* w = warp.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const double grain = 0.5 + 0.5 * std::sin(2 * kPi * (y * freq + 1.5 * w[x] + phase + 0.002 * x));
      row[x] = Mix(dark, light, grain * grain * std::sqrt(grain));
      if (std::fmod(y + phase * 7, plank) < 1.0) row[x] = Scale(dark, 0.6);  // Seam between planks.
    }
  }
  AddNoise(out, 4, rng);
  return out;
}

cv::Mat Tiles(cv::Size size, Random& rng) {
  const cv::Vec3b tile = RandomColor(rng, 0.0, 0.35, 0.55, 0.95), grout = Scale(tile, rng.Uniform(0.5, 0.8));
  const int step = std::max(6, int(std::min(size.width, size.height) * rng.Uniform(0.1, 0.3)));
  cv::Mat out(size, CV_8UC3, ToScalar(tile));
  for (int ty = 0; ty * step < size.height; ++ty) {  // Each tile a little brighter or darker.
    for (int tx = 0; tx * step < size.width; ++tx) {
      cv::rectangle(out, cv::Rect(tx * step, ty * step, step, step), ToScalar(Scale(tile, rng.Uniform(0.92, 1.08))), cv::FILLED);
    }
  }
  for (int v = 0; v < std::max(size.width, size.height); v += step) {
    cv::line(out, {v, 0}, {v, size.height}, ToScalar(grout), 1 + step / 24);
    cv::line(out, {0, v}, {size.width, v}, ToScalar(grout), 1 + step / 24);
  }
  AddNoise(out, 3, rng);
  return out;
}

cv::Mat Fabric(cv::Size size, Random& rng) {
  const cv::Vec3b base = RandomColor(rng, 0.1, 0.6, 0.25, 0.8);
  cv::Mat out(size, CV_8UC3, ToScalar(base));
  if (rng.Chance(0.5)) {  // Woven stripes.
    const cv::Vec3b stripe = Mix(base, RandomColor(rng, 0.2, 0.8, 0.3, 0.9), 0.6);
    const int period = rng.Int(6, 24);
    const bool vertical = rng.Chance(0.5);
    for (int v = 0; v < std::max(size.width, size.height); v += period) {
      const cv::Rect band = vertical ? cv::Rect(v, 0, period / 3 + 1, size.height) : cv::Rect(0, v, size.width, period / 3 + 1);
      cv::rectangle(out, band, ToScalar(stripe), cv::FILLED);
    }
  }
  AddNoise(out, 12, rng);
  return out;
}

cv::Mat Concrete(cv::Size size, Random& rng) {
  cv::Mat out(size, CV_8UC3, ToScalar(HsvColor(rng.Uniform(0, 60), rng.Uniform(0, 0.12), rng.Uniform(0.4, 0.75))));
  Modulate(out, SmoothNoise(size, rng.Int(4, 8), rng), 0.12);
  Modulate(out, SmoothNoise(size, rng.Int(12, 24), rng), 0.08);
  AddNoise(out, 7, rng);
  return out;
}

cv::Mat Surface(cv::Size size, Random& rng) {
  switch (rng.Int(0, 3)) {
    case 0: return Wood(size, rng);
    case 1: return Tiles(size, rng);
    case 2: return Fabric(size, rng);
    default: return Concrete(size, rng);
  }
}

// A wall (or sky) above a tilted horizon and a surface below it.
cv::Mat WallOverFloor(cv::Size size, Random& rng, bool outdoor) {
  cv::Mat out(size, CV_8UC3);
  if (outdoor) {
    FillGradient(out, HsvColor(rng.Uniform(195, 225), rng.Uniform(0.3, 0.7), rng.Uniform(0.7, 1.0)),
                 HsvColor(rng.Uniform(190, 215), rng.Uniform(0.05, 0.3), rng.Uniform(0.85, 1.0)), kPi / 2);
  } else {
    const cv::Vec3b wall = RandomColor(rng, 0.0, 0.35, 0.5, 0.95);
    FillGradient(out, wall, Scale(wall, rng.Uniform(0.7, 0.95)), kPi / 2 + rng.Uniform(-0.5, 0.5));
    Modulate(out, SmoothNoise(size, 4, rng), 0.06);
  }
  cv::Mat floor;
  if (outdoor) {
    floor = cv::Mat(size, CV_8UC3, ToScalar(rng.Chance(0.5) ? HsvColor(rng.Uniform(80, 130), rng.Uniform(0.4, 0.8), rng.Uniform(0.3, 0.6))
                                                             : HsvColor(0, 0, rng.Uniform(0.25, 0.45))));
    Modulate(floor, SmoothNoise(size, 10, rng), 0.2);
    AddNoise(floor, 14, rng);
  } else {
    floor = Surface(size, rng);
  }
  const double y0 = size.height * rng.Uniform(0.2, 0.6), tilt = size.height * rng.Uniform(-0.12, 0.12);
  const std::vector<std::vector<cv::Point>> below{{{0, int(y0 - tilt)}, {size.width, int(y0 + tilt)},
                                                   {size.width, size.height}, {0, size.height}}};
  cv::Mat mask(size, CV_8U, cv::Scalar(0));
  cv::fillPoly(mask, below, cv::Scalar(255));
  floor.copyTo(out, mask);
  cv::line(out, below[0][0], below[0][1], ToScalar(Scale(floor.at<cv::Vec3b>(size.height - 1, 0), 0.6)), 1, cv::LINE_AA);
  return out;
}

cv::Point2d RandomPoint(cv::Size size, Random& rng) {
  return {rng.Uniform(0, size.width), rng.Uniform(0, size.height)};
}

void DrawClutterItem(cv::Mat& image, Random& rng) {
  const cv::Size size = image.size();
  const double scale = std::min(size.width, size.height) * rng.Uniform(0.05, 0.3);
  const cv::Vec3b color = RandomColor(rng, 0.0, 0.6, 0.15, 0.95);
  const cv::Point2d at = RandomPoint(size, rng);
  switch (rng.Int(0, 5)) {
    case 0:  // Blob: an irregular polygon.
    {
      std::vector<cv::Point> blob;
      const int n = rng.Int(5, 9);
      for (int i = 0; i < n; ++i) {
        const double a = 2 * kPi * i / n, r = scale * rng.Uniform(0.5, 1.0);
        blob.emplace_back(int(at.x + r * std::cos(a)), int(at.y + r * std::sin(a)));
      }
      cv::fillPoly(image, std::vector<std::vector<cv::Point>>{blob}, ToScalar(color), cv::LINE_AA);
      break;
    }
    case 1:  // Ellipse (a plate, a stain, a coin).
      cv::ellipse(image, at, cv::Size2d(scale, scale * rng.Uniform(0.3, 1.0)), rng.Uniform(0, 180), 0, 360, ToScalar(color),
                  cv::FILLED, cv::LINE_AA);
      if (rng.Chance(0.5)) {
        cv::ellipse(image, at, cv::Size2d(scale * 0.7, scale * 0.5), 0, 0, 360, ToScalar(Scale(color, 0.8)), 2, cv::LINE_AA);
      }
      break;
    case 2:  // A sheet of paper with print.
    {
      const cv::RotatedRect sheet(at, cv::Size2f(float(scale * 1.4), float(scale)), float(rng.Uniform(0, 180)));
      cv::Point2f corners[4];
      sheet.points(corners);
      const std::vector<cv::Point> quad{corners[0], corners[1], corners[2], corners[3]};
      cv::fillPoly(image, std::vector<std::vector<cv::Point>>{quad}, ToScalar(HsvColor(rng.Uniform(30, 60), 0.08, rng.Uniform(0.85, 0.98))),
                   cv::LINE_AA);
      const std::string letters = "ABCDEFGHIKLMNOPRSTUabcdeghikmnorstuw";
      std::string text;
      for (int i = 0; i < rng.Int(3, 7); ++i) text.push_back(letters[size_t(rng.Int(0, int(letters.size()) - 1))]);
      cv::putText(image, text, at - cv::Point2d(scale * 0.5, 0), cv::FONT_HERSHEY_SIMPLEX, std::max(0.25, scale / 60),
                  cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
      break;
    }
    case 3:  // A cable or stick.
      cv::line(image, at, RandomPoint(size, rng), ToScalar(color), std::max(1, int(scale * rng.Uniform(0.05, 0.15))), cv::LINE_AA);
      break;
    case 4:  // Crumbs / gravel.
      for (int i = 0; i < rng.Int(5, 25); ++i) {
        cv::circle(image, at + cv::Point2d(rng.Normal(0, scale), rng.Normal(0, scale)), rng.Int(1, 3),
                   ToScalar(Scale(color, rng.Uniform(0.6, 1.2))), cv::FILLED, cv::LINE_AA);
      }
      break;
    default:  // A rectangle (a book, a tile, a phone).
    {
      const cv::RotatedRect r(at, cv::Size2f(float(scale), float(scale * rng.Uniform(0.3, 1.0))), float(rng.Uniform(0, 180)));
      cv::Point2f corners[4];
      r.points(corners);
      const std::vector<cv::Point> quad{corners[0], corners[1], corners[2], corners[3]};
      cv::fillPoly(image, std::vector<std::vector<cv::Point>>{quad}, ToScalar(color), cv::LINE_AA);
      cv::polylines(image, std::vector<std::vector<cv::Point>>{quad}, true, ToScalar(Scale(color, 0.6)), 1, cv::LINE_AA);
    }
  }
}

}  // namespace

cv::Mat RenderBackground(cv::Size size, Random& rng) {
  cv::Mat image;
  switch (rng.Int(0, 3)) {
    case 0:
    case 1: image = WallOverFloor(size, rng, /*outdoor=*/false); break;
    case 2: image = Surface(size, rng); break;
    default: image = WallOverFloor(size, rng, /*outdoor=*/true); break;
  }
  const int clutter = rng.Int(2, 9);
  for (int i = 0; i < clutter; ++i) DrawClutterItem(image, rng);
  return image;
}

}  // namespace segtune::synth
