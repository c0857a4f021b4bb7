// Well-known text polygons (Labelbox 2018 WKT exports) and the shoelace area of what they give.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "segtune/formats/wkt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  fuzz::ExpectCleanOutcome([&] {
    for (const WktPolygon& polygon : ParseWkt(std::string(fuzz::AsText(data, size)), "fuzz.json: row 0")) {
      ShoelaceArea(polygon.exterior);
      for (const auto& hole : polygon.holes) ShoelaceArea(hole);
    }
  });
  return 0;
}
