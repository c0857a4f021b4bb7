// torchvision.ops.FeaturePyramidNetwork with LastLevelMaxPool (ops/feature_pyramid_network.py, 0.14).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <vector>

#include "segtune/models/conv_kernel.h"
#include "segtune/models/detection/types.h"

namespace segtune::detection {

// Children "inner_blocks" and "layer_blocks" (ModuleList of Sequential{"0": Conv2d with bias}, as
// torchvision's Conv2dNormActivation without norm and activation): inner_blocks[i] is the 1x1
// lateral conv of input level i, layer_blocks[i] the 3x3 (padding 1) output conv. Weights
// kaiming_uniform(a=1), biases 0, as torchvision initialises them.
// With last_level_max_pool (torchvision's default extra block) a "pool" level is appended:
// max_pool2d(last output, kernel 1, stride 2).
// ConvSlots (models/conv_kernel.h): every inner block (the lateral 1x1, with the upsampled coarser level
// added as a fused sum) and every layer block (the 3x3).
class FeaturePyramidNetworkImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  FeaturePyramidNetworkImpl(std::vector<int64_t> in_channels_list, int64_t out_channels, bool last_level_max_pool = true);

  // features: the body's maps, finest first (their names are kept). Top-down pathway: each level
  // adds the nearest-neighbour upsampled coarser level to its lateral. Returns out_channels maps in
  // the same order (plus "pool"). Throws UsageError if the level count differs from the constructor's.
  FeatureMaps forward(const FeatureMaps& features);
  std::vector<ConvSlot> ConvSlots() override;

  const std::vector<int64_t> in_channels_list;
  const int64_t out_channels;
  const bool last_level_max_pool;
  torch::nn::ModuleList inner_blocks{nullptr};
  torch::nn::ModuleList layer_blocks{nullptr};
  std::vector<ConvKernelPtr> inner_kernels, layer_kernels;  // One per level; null: LibTorch.
};
TORCH_MODULE(FeaturePyramidNetwork);

}  // namespace segtune::detection
