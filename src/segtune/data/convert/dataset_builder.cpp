#include "segtune/data/convert/dataset_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace segtune {

int64_t CategoryIdFor(CocoDataset* coco, const std::string& name) {
  int64_t largest = 0;
  for (const auto& c : coco->categories) {
    if (c.name == name) return c.id;
    largest = std::max(largest, c.id);
  }
  coco->categories.push_back({largest + 1, name, "", nlohmann::json::object()});
  return largest + 1;
}

std::map<int64_t, std::string> CategoryNames(const CocoDataset& coco) {
  std::map<int64_t, std::string> names;
  for (const auto& c : coco.categories) names[c.id] = c.name;
  return names;
}

void FillBoxAndArea(CocoAnnotation* a, int image_width, int image_height) {
  const Segmentation& s = a->segmentation;
  if (s.rle) {
    a->bbox = RleToBbox(*s.rle);
    a->area = double(RleArea(*s.rle));
    return;
  }
  if (s.polygons.empty()) {
    a->area = a->bbox[2] * a->bbox[3];
    return;
  }
  double x0 = std::numeric_limits<double>::max(), y0 = x0, x1 = -x0, y1 = -x0, shoelace = 0;
  for (const auto& p : s.polygons) {
    const size_t n = p.size() / 2;
    double twice_area = 0;
    for (size_t i = 0; i < n; ++i) {
      x0 = std::min(x0, p[2 * i]), x1 = std::max(x1, p[2 * i]);
      y0 = std::min(y0, p[2 * i + 1]), y1 = std::max(y1, p[2 * i + 1]);
      const size_t j = (i + 1) % n;
      twice_area += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1];
    }
    shoelace += std::abs(twice_area) / 2;
  }
  a->bbox = {x0, y0, x1 - x0, y1 - y0};
  if (image_width > 0 && image_height > 0) {
    a->area = double(RleArea(RleFromPolygons(s.polygons, uint32_t(image_height), uint32_t(image_width))));
  } else {
    a->area = shoelace;
  }
}

int64_t NextAnnotationId(const CocoDataset& coco) {
  int64_t largest = 0;
  for (const auto& a : coco.annotations) largest = std::max(largest, a.id);
  return largest + 1;
}

}  // namespace segtune
