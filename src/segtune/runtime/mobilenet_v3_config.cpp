#include "segtune/runtime/mobilenet_v3_config.h"

#include <algorithm>

namespace segtune {

std::vector<InvertedResidualConfig> MobileNetV3LargeConfig(bool dilated) {
  const int64_t d = dilated ? 2 : 1;
  return {
      {16, 3, 16, 16, false, false, 1, 1},   {16, 3, 64, 24, false, false, 2, 1},  // C1
      {24, 3, 72, 24, false, false, 1, 1},   {24, 5, 72, 40, true, false, 2, 1},   // C2
      {40, 5, 120, 40, true, false, 1, 1},   {40, 5, 120, 40, true, false, 1, 1},
      {40, 3, 240, 80, false, true, 2, 1},                                          // C3
      {80, 3, 200, 80, false, true, 1, 1},   {80, 3, 184, 80, false, true, 1, 1},
      {80, 3, 184, 80, false, true, 1, 1},   {80, 3, 480, 112, true, true, 1, 1},
      {112, 3, 672, 112, true, true, 1, 1},  {112, 5, 672, 160, true, true, 2, d},  // C4
      {160, 5, 960, 160, true, true, 1, d},  {160, 5, 960, 160, true, true, 1, d},
  };
}

int64_t MakeDivisible(double value, int64_t divisor) {
  int64_t rounded = std::max(divisor, static_cast<int64_t>(value + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

}  // namespace segtune
