// MobileNetV3-Large's layer table as torchvision 0.14 builds it (models/mobilenetv3.py, width 1.0),
// shared by the LibTorch model (models/mobilenet_v3.h) and the LibTorch-free runtime
// (runtime/mobilenet_v3_features.h).
#pragma once

#include <cstdint>
#include <vector>

namespace segtune {

// One row of the MobileNetV3 paper's Table 1 (torchvision's InvertedResidualConfig, width 1.0).
struct InvertedResidualConfig {
  int64_t input_channels;
  int64_t kernel;
  int64_t expanded_channels;
  int64_t out_channels;
  bool use_se;
  bool use_hs;  // Hardswish if true, else ReLU.
  int64_t stride;
  int64_t dilation;
};

// The 15 bneck rows of MobileNetV3-Large; dilated=true gives the last stage (C4) dilation 2.
std::vector<InvertedResidualConfig> MobileNetV3LargeConfig(bool dilated);

// torchvision's _make_divisible(v, 8): round to the nearest multiple of divisor, not below 90% of v.
int64_t MakeDivisible(double value, int64_t divisor);

}  // namespace segtune
