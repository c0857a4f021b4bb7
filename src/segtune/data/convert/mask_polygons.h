// Masks to polygons, for the formats that have no masks (YOLO segments, LabelMe, CVAT and Label
// Studio polygons, Labelbox MAL polygons): each connected region of a mask becomes one outer
// polygon and its holes, simplified with Douglas-Peucker.
#pragma once

#include <vector>

#include "segtune/formats/rle.h"

namespace segtune {

struct TraceOptions {
  double tolerance = 1.0;  // Max distance in pixels between the simplified polygon and the contour.
  double min_area = 4.0;   // Regions of fewer pixels are dropped (counted in TraceResult).
};

struct TracedRegion {
  std::vector<double> outer;               // [x1, y1, x2, y2, ...], pixels, at least 3 points.
  std::vector<std::vector<double>> holes;  // The same for each hole (formats that cannot hold holes warn).
  double area = 0;                         // Pixels of the region (holes excluded).
};

struct TraceResult {
  std::vector<TracedRegion> regions;  // Largest first.
  int dropped_small = 0;              // Regions below min_area.
};

// Traces every 8-connected region of `mask`. Vertices lie on pixel corners' side of the boundary so
// that rasterizing the polygon (RleFromPolygon) gives back the region: IoU > 0.95 for regions of
// more than ~100 pixels at tolerance 1 (tests/data/convert_mask_polygons_test.cpp).
TraceResult TracePolygons(const Rle& mask, const TraceOptions& options);

}  // namespace segtune
