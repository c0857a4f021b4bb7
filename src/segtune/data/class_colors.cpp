#include "segtune/data/class_colors.h"

#include <cstdint>

namespace segtune {

cv::Vec3b ClassColor(int label) {
  // VOC's palette spreads the bits of the id over the top bits of r, g and b.
  int r = 0, g = 0, b = 0, c = label;
  for (int j = 0; j < 8; ++j) {
    r |= ((c >> 0) & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return {static_cast<uint8_t>(b), static_cast<uint8_t>(g), static_cast<uint8_t>(r)};
}

}  // namespace segtune
