// The object classes the synthetic dataset generator can draw, each as a "sprite": an appearance
// canvas (shaded, textured BGR pixels) plus the object's silhouette in the canvas's pixel frame.
// The scene composer (synth_scene.h) rotates, places and paints sprites; the silhouette is what
// gets exported as the object's polygon.
//
//   target-style classes: bottle (body + shoulder + neck + cap), can (cylinder with elliptical lid
//   and a label band), box (cardboard/printed box, front face plus a side or top face);
//   source-style classes: ball (shaded sphere, solid/striped/spotted), cup (tapered mug with a
//   handle and a dark opening), sign (plate on a pole: octagon, triangle, disc or rectangle).
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "segtune/data/synth/synth_random.h"

namespace segtune::synth {

enum class ShapeKind { kBottle, kCan, kBox, kBall, kCup, kSign };

// Class names the generator knows, in a stable order: bottle, can, box, ball, cup, sign.
const std::vector<std::string>& KnownShapeNames();
// Maps a class name (case-insensitive) to its shape. Throws UsageError listing the known names.
ShapeKind ShapeKindFromName(const std::string& name);

struct Sprite {
  cv::Mat appearance;                // CV_8UC3, the object painted in its own upright frame.
  std::vector<cv::Point2f> outline;  // Closed silhouette in appearance pixel coordinates, simple polygon.
  double opacity = 1.0;              // < 1 for glass: the background shows through a little.
};

// Draws one object whose larger side is about `size` pixels (size >= 8).
Sprite DrawSprite(ShapeKind kind, double size, Random& rng);

}  // namespace segtune::synth
