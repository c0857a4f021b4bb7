// RLE: the compressed-string vectors from pycocotools, round trips, and merge/area/bbox/IoU against
// brute force on decoded masks; polygon rasterization against a transliteration of maskApi.c.
#include "segtune/formats/rle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune {
namespace {

Rle MakeRle(uint32_t h, uint32_t w, std::vector<uint32_t> counts) {
  Rle r;
  r.h = h;
  r.w = w;
  r.counts = std::move(counts);
  return r;
}

std::vector<uint8_t> RandomMask(std::mt19937& rng, uint32_t h, uint32_t w) {
  // Blobby masks (random rectangles) so runs have realistic lengths, plus salt noise.
  std::vector<uint8_t> m(static_cast<size_t>(h) * w, 0);
  std::uniform_int_distribution<int> n_rects(0, 3);
  const int rects = n_rects(rng);
  for (int r = 0; r < rects; ++r) {
    std::uniform_int_distribution<uint32_t> ux(0, w - 1), uy(0, h - 1);
    uint32_t x0 = ux(rng), x1 = ux(rng), y0 = uy(rng), y1 = uy(rng);
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    for (uint32_t y = y0; y <= y1; ++y)
      for (uint32_t x = x0; x <= x1; ++x) m[y * w + x] = 1;
  }
  std::bernoulli_distribution salt(0.02);
  for (auto& v : m)
    if (salt(rng)) v = !v;
  return m;
}

std::vector<uint8_t> Decode(const Rle& r) {
  std::vector<uint8_t> m(static_cast<size_t>(r.h) * r.w, 7);
  RleDecode(r, m.data());
  return m;
}

TEST(Rle, ToStringMatchesPycocotoolsVectors) {
  EXPECT_EQ(RleToString(MakeRle(7, 1, {2, 3, 1, 1})), "231N");
  EXPECT_EQ(RleToString(MakeRle(7, 1, {0, 6, 1})), "061");
  EXPECT_EQ(RleToString(MakeRle(442, 1, {100, 20, 300, 5, 17})), "T3d0\\9AUG");
}

TEST(Rle, FromStringInvertsPycocotoolsVectors) {
  EXPECT_EQ(RleFromString("231N", 7, 1).counts, (std::vector<uint32_t>{2, 3, 1, 1}));
  EXPECT_EQ(RleFromString("061", 7, 1).counts, (std::vector<uint32_t>{0, 6, 1}));
  EXPECT_EQ(RleFromString("T3d0\\9AUG", 442, 1).counts, (std::vector<uint32_t>{100, 20, 300, 5, 17}));
}

TEST(Rle, FromStringRejectsWrongTotalAndBadCharacters) {
  EXPECT_THROW(RleFromString("231N", 8, 1), FormatError);
  EXPECT_THROW(RleFromString("23\x7f", 5, 1), FormatError);
  EXPECT_THROW(RleFromString("2o", 7, 1), FormatError);  // 'o' = 63 has the continuation bit: truncated.
}

TEST(Rle, StringRoundTripsOnRandomMasks) {
  std::mt19937 rng(1);
  for (int i = 0; i < 200; ++i) {
    const uint32_t h = 1 + rng() % 40, w = 1 + rng() % 40;
    const Rle r = RleEncode(RandomMask(rng, h, w).data(), h, w);
    EXPECT_EQ(RleFromString(RleToString(r), h, w), r);
  }
}

TEST(Rle, EncodeDecodeRoundTripsAndRunsGoDownColumns) {
  // 2x3 mask, row-major [[1,0,0],[1,1,0]]: column-major pixels 1,1,0,1,0,0 -> runs 0,2,1,1,2.
  const uint8_t m[] = {1, 0, 0, 1, 1, 0};
  const Rle r = RleEncode(m, 2, 3);
  EXPECT_EQ(r.counts, (std::vector<uint32_t>{0, 2, 1, 1, 2}));
  std::mt19937 rng(2);
  for (int i = 0; i < 200; ++i) {
    const uint32_t h = 1 + rng() % 30, w = 1 + rng() % 30;
    const auto mask = RandomMask(rng, h, w);
    const Rle e = RleEncode(mask.data(), h, w);
    uint64_t total = 0;
    for (auto c : e.counts) total += c;
    ASSERT_EQ(total, uint64_t{h} * w);
    EXPECT_EQ(Decode(e), mask);
  }
}

// The per-pixel definition of decoding (maskApi.c rleDecode): pixel index = x * h + y, runs that
// overrun h*w are cut, pixels after the last run are 0.
std::vector<uint8_t> DecodePixelByPixel(const Rle& r) {
  std::vector<uint8_t> m(static_cast<size_t>(r.h) * r.w, 0);
  uint64_t pos = 0;
  uint8_t v = 0;
  for (uint32_t run : r.counts) {
    for (uint32_t k = 0; k < run && pos < m.size(); ++k, ++pos) m[(pos % r.h) * r.w + pos / r.h] = v;
    v = !v;
  }
  return m;
}

TEST(Rle, DecodeMatchesPixelByPixelOnLargeAndNonSquareMasks) {
  std::mt19937 rng(3);
  for (const auto& [h, w] : std::vector<std::pair<uint32_t, uint32_t>>{{257, 300}, {1, 513}, {513, 1}, {64, 64}}) {
    const Rle e = RleEncode(RandomMask(rng, h, w).data(), h, w);
    EXPECT_EQ(Decode(e), DecodePixelByPixel(e)) << h << "x" << w;
  }
}

TEST(Rle, DecodeZeroFillsShortCountsAndCutsLongOnes) {
  const Rle short_counts = MakeRle(3, 4, {1, 5});  // 6 of 12 pixels: the rest are 0.
  EXPECT_EQ(Decode(short_counts), DecodePixelByPixel(short_counts));
  EXPECT_EQ(Decode(short_counts), (std::vector<uint8_t>{0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0}));
  const Rle long_counts = MakeRle(3, 4, {10, 50, 7});
  EXPECT_EQ(Decode(long_counts), DecodePixelByPixel(long_counts));
}

TEST(Rle, MergeAreaBboxMatchBruteForce) {
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    const uint32_t h = 1 + rng() % 25, w = 1 + rng() % 25;
    const auto a = RandomMask(rng, h, w), b = RandomMask(rng, h, w), c = RandomMask(rng, h, w);
    std::vector<Rle> rles = {RleEncode(a.data(), h, w), RleEncode(b.data(), h, w), RleEncode(c.data(), h, w)};
    std::vector<uint8_t> uni(a.size()), inter(a.size());
    uint64_t area_a = 0;
    uint32_t x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (size_t p = 0; p < a.size(); ++p) {
      uni[p] = a[p] || b[p] || c[p];
      inter[p] = a[p] && b[p] && c[p];
      if (a[p]) {
        ++area_a;
        const uint32_t y = p / w, x = p % w;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
    }
    EXPECT_EQ(Decode(RleMerge(rles, false)), uni);
    EXPECT_EQ(Decode(RleMerge(rles, true)), inter);
    EXPECT_EQ(RleArea(rles[0]), area_a);
    const auto bb = RleToBbox(rles[0]);
    if (area_a == 0) {
      EXPECT_EQ(bb, (std::array<double, 4>{0, 0, 0, 0}));
    } else if (x1 == x0) {  // A single column: the tight box.
      EXPECT_EQ(bb, (std::array<double, 4>{double(x0), double(y0), double(x1 - x0 + 1), double(y1 - y0 + 1)}));
    } else {
      // rleToBbox's documented quirk: when a foreground run crosses a column boundary the box spans
      // the full height; otherwise it is the tight box. x extent is always tight.
      EXPECT_EQ(bb[0], x0);
      EXPECT_EQ(bb[2], x1 - x0 + 1);
      EXPECT_TRUE((bb[1] == y0 && bb[3] == y1 - y0 + 1) || (bb[1] == 0 && bb[3] == h));
    }
  }
}

TEST(Rle, IouMatchesBruteForceIncludingCrowd) {
  std::mt19937 rng(4);
  for (int i = 0; i < 100; ++i) {
    const uint32_t h = 1 + rng() % 25, w = 1 + rng() % 25;
    std::vector<std::vector<uint8_t>> dm, gm;
    std::vector<Rle> dt, gt;
    for (int k = 0; k < 3; ++k) dm.push_back(RandomMask(rng, h, w)), dt.push_back(RleEncode(dm.back().data(), h, w));
    for (int k = 0; k < 2; ++k) gm.push_back(RandomMask(rng, h, w)), gt.push_back(RleEncode(gm.back().data(), h, w));
    const std::vector<bool> crowd = {false, true};
    const auto iou = RleIou(dt, gt, crowd);
    ASSERT_EQ(iou.size(), 6u);
    for (size_t d = 0; d < 3; ++d) {
      for (size_t g = 0; g < 2; ++g) {
        uint64_t in = 0, un = 0, da = 0;
        for (size_t p = 0; p < dm[d].size(); ++p) {
          in += dm[d][p] && gm[g][p];
          un += dm[d][p] || gm[g][p];
          da += dm[d][p];
        }
        const double expect = in == 0 ? 0.0 : double(in) / double(crowd[g] ? da : un);
        EXPECT_DOUBLE_EQ(iou[d * 2 + g], expect) << "dt " << d << " gt " << g;
      }
    }
  }
}

TEST(Rle, IouIsMinusOneForDifferentSizesWhenBoxesOverlap) {
  const uint8_t a[] = {1, 1, 1, 1};
  const uint8_t b[] = {1, 1, 1, 1, 1, 1};
  const auto iou = RleIou({RleEncode(a, 2, 2)}, {RleEncode(b, 2, 3)}, {false});
  EXPECT_EQ(iou[0], -1);
}

TEST(Rle, BboxIouHandCases) {
  // [0,0,10,10] vs [5,5,10,10]: intersection 25, union 175; crowd union = dt area 100.
  const auto iou = BboxIou({{0, 0, 10, 10}}, {{5, 5, 10, 10}, {5, 5, 10, 10}, {10, 0, 5, 5}}, {false, true, false});
  EXPECT_DOUBLE_EQ(iou[0], 25.0 / 175.0);
  EXPECT_DOUBLE_EQ(iou[1], 25.0 / 100.0);
  EXPECT_EQ(iou[2], 0.0);  // Touching edges do not overlap.
}

TEST(Rle, RectanglePolygonCoversItsPixels) {
  // The rectangle with corners (2,3) and (7,9) covers pixels x 2..6, y 3..8 under rleFrPoly's rule.
  const Rle r = RleFromPolygon({2, 3, 7, 3, 7, 9, 2, 9}, 12, 10);
  EXPECT_EQ(RleArea(r), 5u * 6u);
  EXPECT_EQ(RleToBbox(r), (std::array<double, 4>{2, 3, 5, 6}));
  EXPECT_EQ(RleFromBbox({2, 3, 5, 6}, 12, 10), r);
}

double DistanceToSegment(double px, double py, double ax, double ay, double bx, double by) {
  const double vx = bx - ax, vy = by - ay;
  double t = ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy);
  t = std::max(0.0, std::min(1.0, t));
  return std::hypot(px - (ax + t * vx), py - (ay + t * vy));
}

TEST(Rle, TriangleMatchesPointInPolygonAwayFromBoundary) {
  // Away from the boundary, rleFrPoly's rule is "pixel centre inside the polygon".
  const std::vector<double> xy = {3.2, 2.7, 27.9, 8.4, 11.3, 30.6};
  const uint32_t h = 34, w = 32;
  const auto mask = Decode(RleFromPolygon(xy, h, w));
  int checked = 0;
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      double dmin = 1e9;
      bool inside = false;
      for (size_t i = 0, j = 2; i < 3; j = i++) {
        const double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        dmin = std::min(dmin, DistanceToSegment(x, y, xi, yi, xj, yj));
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
      }
      if (dmin < 0.75) continue;
      ++checked;
      EXPECT_EQ(mask[y * w + x], inside ? 1 : 0) << "pixel " << x << "," << y;
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(Rle, PolygonsMatchMaskApiTransliteration) {
  std::mt19937 rng(5);
  nlohmann::json cases = nlohmann::json::array();
  std::vector<Rle> ours;
  for (int i = 0; i < 300; ++i) {
    const uint32_t h = 1 + rng() % 60, w = 1 + rng() % 60;
    const int k = 1 + rng() % 9;
    std::uniform_real_distribution<double> ux(-5, w + 5), uy(-5, h + 5);
    std::vector<double> xy;
    for (int j = 0; j < k; ++j) {
      // Some vertices on the integer / 0.2 grid and some repeated, to exercise exact boundary cases.
      double x = ux(rng), y = uy(rng);
      if (rng() % 3 == 0) x = std::round(x), y = std::round(y * 5) / 5;
      if (j > 0 && rng() % 7 == 0) x = xy[xy.size() - 2], y = xy.back();
      xy.push_back(x);
      xy.push_back(y);
    }
    cases.push_back({{"h", h}, {"w", w}, {"xy", xy}});
    ours.push_back(RleFromPolygon(xy, h, w));
  }
  testing::TempDir dir;
  std::ofstream(dir / "in.json") << cases.dump();
  const auto run = testing::RunPython(testing::SourcePath("tests/data/maskapi_frpoly_transliteration.py") + " '" +
                                      (dir / "in.json").string() + "' '" + (dir / "out.json").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json ref;
  std::ifstream(dir / "out.json") >> ref;
  ASSERT_EQ(ref.size(), ours.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].counts, ref[i].get<std::vector<uint32_t>>()) << "case " << i << ": " << cases[i].dump();
  }
}

TEST(Rle, PolygonListWithFourNumbersIsReadAsBoxes) {
  // pycocotools frPyObjects quirk: a first element of length 4 makes the list a list of boxes.
  EXPECT_EQ(RleFromPolygons({{1, 1, 3, 2}}, 8, 8), RleFromBbox({1, 1, 3, 2}, 8, 8));
  const Rle two = RleFromPolygons({{0, 0, 2, 0, 2, 2, 0, 2}, {4, 4, 6, 4, 6, 6, 4, 6}}, 8, 8);
  EXPECT_EQ(RleArea(two), 8u);
}

}  // namespace
}  // namespace segtune
