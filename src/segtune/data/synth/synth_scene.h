// One synthetic photograph: a cluttered background (wall/floor, wood, tiles, fabric, outdoor) with
// 1-4 objects of the requested classes placed, rotated, shadowed and painted back to front, then
// lit, blurred and noised like a cheap camera.
//
// Label contract: each object's polygon is its own full silhouette (integer pixel vertices), and
// the object's pixels are exactly cv::fillPoly(polygon) minus what later objects cover. So the
// semantic label map equals the polygons filled in z-order (later objects over earlier ones), and
// an object is only placed if every earlier object keeps at least half of its area visible.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "segtune/data/synth/synth_shapes.h"

namespace segtune::synth {

struct SceneObject {
  int class_index = 0;             // Index into the class list; its label value is class_index + 1.
  std::vector<cv::Point> polygon;  // Full silhouette in image pixels, exactly what was filled.
  int area = 0;                    // Pixels inside the silhouette.
  int visible = 0;                 // Pixels still showing after later objects were painted.
};

struct Scene {
  cv::Mat image;                    // CV_8UC3 BGR.
  cv::Mat labels;                   // CV_8U: 0 = background, class_index + 1 where an object shows.
  std::vector<SceneObject> objects;  // Back to front (z-order).
};

// Renders image number `index` of the dataset with seed `seed`; a pure function of its arguments
// (independent of other images, so images can be rendered in parallel). `classes` must not be
// empty and `size` must be at least 32x32.
Scene RenderScene(const std::vector<ShapeKind>& classes, cv::Size size, uint64_t seed, uint64_t index);

// The reference rasterization of a label contract: fills each polygon with class_index + 1, in
// order, into a zero CV_8U image of `size` (cv::fillPoly, 8-connected, no anti-aliasing).
cv::Mat RasterizeLabels(cv::Size size, const std::vector<SceneObject>& objects);

}  // namespace segtune::synth
