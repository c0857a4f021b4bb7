#include "segtune/data/convert/mask_polygons.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using segtune::Rle;

struct Canvas {
  uint32_t h, w;
  std::vector<uint8_t> px;
  Canvas(uint32_t h_, uint32_t w_) : h(h_), w(w_), px(size_t(h_) * w_, 0) {}
  void Rect(int x0, int y0, int x1, int y1, uint8_t v) {  // Inclusive-exclusive.
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) px[size_t(y) * w + x] = v;
  }
  void Disc(double cx, double cy, double r, uint8_t v) {
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x)
        if (std::hypot(x + 0.5 - cx, y + 0.5 - cy) <= r) px[size_t(y) * w + x] = v;
  }
  Rle ToRle() const { return segtune::RleEncode(px.data(), h, w); }
};

double Iou(const Rle& a, const Rle& b) { return segtune::RleIou({a}, {b}, {false})[0]; }

// The polygon, holes cut out, rasterized as COCO tools do.
Rle Rasterize(const segtune::TracedRegion& r, uint32_t h, uint32_t w) {
  Rle outer = segtune::RleFromPolygon(r.outer, h, w);
  for (const auto& hole : r.holes) {
    const Rle cut = segtune::RleFromPolygon(hole, h, w);
    std::vector<uint8_t> a(size_t(h) * w), b(size_t(h) * w);
    segtune::RleDecode(outer, a.data());
    segtune::RleDecode(cut, b.data());
    for (size_t i = 0; i < a.size(); ++i) a[i] = a[i] && !b[i];
    outer = segtune::RleEncode(a.data(), h, w);
  }
  return outer;
}

TEST(TracePolygons, RectangleComesBackExactlyWithFourCorners) {
  Canvas c(40, 50);
  c.Rect(5, 7, 30, 20, 1);
  const auto result = segtune::TracePolygons(c.ToRle(), {});
  ASSERT_EQ(result.regions.size(), 1u);
  EXPECT_EQ(result.regions[0].outer.size(), 8u) << "four corners";
  EXPECT_EQ(result.regions[0].area, 25 * 13);
  EXPECT_GT(Iou(Rasterize(result.regions[0], 40, 50), c.ToRle()), 0.999);
}

TEST(TracePolygons, DiscWithHoleKeepsTheHoleAndRasterizesBack) {
  Canvas c(80, 80);
  c.Disc(40, 40, 30, 1);
  c.Disc(40, 40, 10, 0);
  const auto result = segtune::TracePolygons(c.ToRle(), {});
  ASSERT_EQ(result.regions.size(), 1u);
  ASSERT_EQ(result.regions[0].holes.size(), 1u);
  EXPECT_GT(Iou(Rasterize(result.regions[0], 80, 80), c.ToRle()), 0.97);  // Measured 0.975 (tolerance 1).
}

TEST(TracePolygons, RegionsTouchingTheBorderCloseAndSmallOnesAreDropped) {
  Canvas c(30, 30);
  c.Rect(0, 0, 12, 30, 1);   // Touches three borders.
  c.Rect(20, 20, 21, 21, 1);  // One pixel.
  segtune::TraceOptions options;
  options.min_area = 4;
  const auto result = segtune::TracePolygons(c.ToRle(), options);
  ASSERT_EQ(result.regions.size(), 1u);
  EXPECT_EQ(result.dropped_small, 1);
  for (size_t i = 0; i < result.regions[0].outer.size(); ++i) {
    EXPECT_GE(result.regions[0].outer[i], 0.0);
    EXPECT_LE(result.regions[0].outer[i], 30.0);
  }
  EXPECT_GT(Iou(Rasterize(result.regions[0], 30, 30), c.ToRle()), 0.99);  // Measured 0.997.
}

TEST(TracePolygons, LargerToleranceGivesFewerPointsAndRegionsComeLargestFirst) {
  Canvas c(100, 100);
  c.Disc(30, 30, 25, 1);
  c.Disc(80, 80, 10, 1);
  segtune::TraceOptions fine, coarse;
  fine.tolerance = 0.5;
  coarse.tolerance = 3;
  const auto a = segtune::TracePolygons(c.ToRle(), fine);
  const auto b = segtune::TracePolygons(c.ToRle(), coarse);
  ASSERT_EQ(a.regions.size(), 2u);
  EXPECT_GT(a.regions[0].area, a.regions[1].area);
  EXPECT_LT(b.regions[0].outer.size(), a.regions[0].outer.size());
}

}  // namespace
