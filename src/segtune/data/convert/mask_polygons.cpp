#include "segtune/data/convert/mask_polygons.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"

namespace segtune {
namespace {

int Sign(int v) { return (v > 0) - (v < 0); }

// OpenCV contours run through the centres of the boundary pixels, which would leave half of every
// boundary pixel outside the polygon (a 25 x 13 rectangle would come back 24 x 12). Each point moves
// half a pixel along its normal, to the side where the background is: onto the pixel's outer
// corner or edge. `padded` is the mask with its one-pixel border; contour points are unpadded.
std::vector<cv::Point2f> OnPixelEdges(const std::vector<cv::Point>& contour, const cv::Mat& padded) {
  const size_t n = contour.size();
  std::vector<cv::Point2f> out(n);
  for (size_t i = 0; i < n; ++i) {
    const cv::Point& p = contour[i];
    const cv::Point t = contour[(i + 1) % n] - contour[(i + n - 1) % n];
    int sx = Sign(t.y), sy = -Sign(t.x);  // One normal; the other is its negation.
    if (padded.at<uint8_t>(p.y + 1 + sy, p.x + 1 + sx) != 0) sx = -sx, sy = -sy;
    // COCO coordinates put pixel (x, y)'s centre at (x + 0.5, y + 0.5).
    out[i] = cv::Point2f(p.x + 0.5f + 0.5f * sx, p.y + 0.5f + 0.5f * sy);
  }
  return out;
}

std::vector<double> ToPolygon(const std::vector<cv::Point>& contour, const cv::Mat& padded, double tolerance) {
  const std::vector<cv::Point2f> points = OnPixelEdges(contour, padded);
  std::vector<cv::Point2f> simple;
  if (tolerance > 0) {
    cv::approxPolyDP(points, simple, tolerance, /*closed=*/true);
  } else {
    simple = points;
  }
  std::vector<double> xy;
  xy.reserve(simple.size() * 2);
  for (const auto& p : simple) {
    xy.push_back(p.x);
    xy.push_back(p.y);
  }
  return xy;
}

}  // namespace

TraceResult TracePolygons(const Rle& mask, const TraceOptions& options) {
  TraceResult result;
  if (mask.h == 0 || mask.w == 0) return result;
  // Tracing draws the mask at its size: the pixel limit of decoding an image applies.
  if (int64_t(mask.h) * int64_t(mask.w) > GetInputLimits().max_image_pixels) {
    throw Error("a " + std::to_string(mask.w) + "x" + std::to_string(mask.h) + " mask has more than " +
                std::to_string(GetInputLimits().max_image_pixels) +
                " pixels (the --max-pixels limit; raise it for larger images)");
  }
  cv::Mat pixels(static_cast<int>(mask.h), static_cast<int>(mask.w), CV_8UC1);
  RleDecode(mask, pixels.data);
  // One pixel of background around the mask, so regions touching the border close there.
  cv::Mat padded;
  cv::copyMakeBorder(pixels, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
  std::vector<std::vector<cv::Point>> contours;
  std::vector<cv::Vec4i> hierarchy;  // [next, previous, first child, parent]
  cv::findContours(padded, contours, hierarchy, cv::RETR_CCOMP, cv::CHAIN_APPROX_NONE, cv::Point(-1, -1));
  for (size_t i = 0; i < contours.size(); ++i) {
    if (hierarchy[i][3] >= 0) continue;  // A hole: handled with its outer contour.
    cv::Mat region = cv::Mat::zeros(padded.size(), CV_8UC1);
    cv::drawContours(region, contours, static_cast<int>(i), 1, cv::FILLED, cv::LINE_8, hierarchy, 1, cv::Point(1, 1));
    const double area = cv::countNonZero(region & padded);
    if (area < options.min_area) {
      ++result.dropped_small;
      continue;
    }
    TracedRegion traced;
    traced.area = area;
    traced.outer = ToPolygon(contours[i], padded, options.tolerance);
    for (int child = hierarchy[i][2]; child >= 0; child = hierarchy[child][0]) {
      if (cv::contourArea(contours[child]) < options.min_area) continue;
      traced.holes.push_back(ToPolygon(contours[child], padded, options.tolerance));
    }
    if (traced.outer.size() < 6) {
      // A one-pixel-wide line simplifies to fewer than 3 points: keep its unsimplified contour.
      traced.outer = ToPolygon(contours[i], padded, 0);
      if (traced.outer.size() < 6) {
        ++result.dropped_small;
        continue;
      }
    }
    result.regions.push_back(std::move(traced));
  }
  std::stable_sort(result.regions.begin(), result.regions.end(),
                   [](const TracedRegion& a, const TracedRegion& b) { return a.area > b.area; });
  return result;
}

}  // namespace segtune
