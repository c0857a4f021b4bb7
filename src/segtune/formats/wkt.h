// Well-known text polygons, as in Labelbox's 2018 WKT exports: "POLYGON ((x y, ...), (hole ...))" and
// "MULTIPOLYGON (((x y, ...)), ((...)))".
#pragma once

#include <string>
#include <vector>

namespace segtune {

// One polygon: an exterior ring and zero or more holes, each flat [x1,y1,x2,y2,...] without the
// repeated closing vertex.
struct WktPolygon {
  std::vector<double> exterior;
  std::vector<std::vector<double>> holes;
};

// Parses POLYGON or MULTIPOLYGON (case-insensitive; "EMPTY" gives no polygons; Z/M values after x y
// are ignored). Throws FormatError "<where>: WKT at character N: expected ..." when malformed, where
// `where` names the source (file and row).
std::vector<WktPolygon> ParseWkt(const std::string& text, const std::string& where);

// Signed area of a flat ring by the shoelace formula (positive when counter-clockwise in a y-up frame).
double ShoelaceArea(const std::vector<double>& ring);

}  // namespace segtune
