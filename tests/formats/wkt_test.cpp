#include "segtune/formats/wkt.h"

#include <gtest/gtest.h>

#include "segtune/core/error.h"

using segtune::ParseWkt;

TEST(Wkt, ParsesPolygonWithHoleAndDropsTheClosingVertex) {
  const auto polygons = ParseWkt("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 2))", "t");
  ASSERT_EQ(polygons.size(), 1u);
  EXPECT_EQ(polygons[0].exterior, (std::vector<double>{0, 0, 10, 0, 10, 10, 0, 10}));
  ASSERT_EQ(polygons[0].holes.size(), 1u);
  EXPECT_EQ(polygons[0].holes[0], (std::vector<double>{2, 2, 4, 2, 4, 4}));
}

TEST(Wkt, ParsesMultipolygonCaseInsensitiveWithDecimalsAndZ) {
  const auto polygons =
      ParseWkt("multipolygon(((1.5 2.25 7,3 2 7,3 4 7,1.5 2.25 7)),((-1e1 0, 0 0, 0 1)))", "t");
  ASSERT_EQ(polygons.size(), 2u);
  EXPECT_EQ(polygons[0].exterior, (std::vector<double>{1.5, 2.25, 3, 2, 3, 4}));
  EXPECT_EQ(polygons[1].exterior, (std::vector<double>{-10, 0, 0, 0, 0, 1}));
  EXPECT_TRUE(polygons[1].holes.empty());
}

TEST(Wkt, EmptyGeometriesGiveNoPolygons) {
  EXPECT_TRUE(ParseWkt("POLYGON EMPTY", "t").empty());
  EXPECT_TRUE(ParseWkt(" MULTIPOLYGON EMPTY ", "t").empty());
}

TEST(Wkt, ErrorsNameTheSourceAndCharacter) {
  try {
    ParseWkt("POLYGON ((0 0, 1 x))", "export.json: row 7: Label.bottle");
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("export.json: row 7: Label.bottle"), std::string::npos) << what;
    EXPECT_NE(what.find("character 18"), std::string::npos) << what;
    EXPECT_NE(what.find("expected a number"), std::string::npos) << what;
  }
  EXPECT_THROW(ParseWkt("LINESTRING (0 0, 1 1)", "t"), segtune::FormatError);
  EXPECT_THROW(ParseWkt("POLYGON ((0 0, 1 1, 1 0)", "t"), segtune::FormatError);
  EXPECT_THROW(ParseWkt("POLYGON ((0 0, 1 1, 1 0)) trailing", "t"), segtune::FormatError);
}

TEST(Wkt, ShoelaceAreaOfASquareAndATriangle) {
  EXPECT_DOUBLE_EQ(segtune::ShoelaceArea({0, 0, 4, 0, 4, 3, 0, 3}), 12.0);
  EXPECT_DOUBLE_EQ(segtune::ShoelaceArea({0, 0, 0, 3, 4, 0}), -6.0);  // Clockwise in y-up.
}
