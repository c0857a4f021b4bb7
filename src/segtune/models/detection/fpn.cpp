#include "segtune/models/detection/fpn.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <string>

#include "segtune/models/layers.h"

#include "segtune/core/error.h"

namespace segtune::detection {
namespace {

torch::nn::Sequential ConvBlock(int64_t in, int64_t out, int64_t kernel) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, kernel).padding((kernel - 1) / 2).bias(true));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(conv->weight, /*a=*/1);
  torch::nn::init::zeros_(conv->bias);
  return torch::nn::Sequential(conv);
}

// Block `index` of `list` (a Sequential holding one Conv2d) on x, plus `add` when defined; through its
// kernel when it has one that takes x.
torch::Tensor RunBlock(torch::nn::ModuleList& list, const std::vector<ConvKernelPtr>& kernels, size_t index,
                       const torch::Tensor& x, const torch::Tensor& add = {}) {
  if (torch::Tensor y = RunConvKernel(kernels[index], x, add); y.defined()) return y;
  torch::Tensor y = list[index]->as<torch::nn::Sequential>()->forward(x);
  return add.defined() ? y + add : y;
}

torch::nn::Conv2dImpl* ConvOf(torch::nn::ModuleList& list, size_t index) {
  return list[index]->as<torch::nn::Sequential>()->ptr<torch::nn::Conv2dImpl>(0).get();
}

}  // namespace

FeaturePyramidNetworkImpl::FeaturePyramidNetworkImpl(std::vector<int64_t> in_channels, int64_t out, bool max_pool)
    : in_channels_list(std::move(in_channels)), out_channels(out), last_level_max_pool(max_pool) {
  inner_blocks = register_module("inner_blocks", torch::nn::ModuleList());
  layer_blocks = register_module("layer_blocks", torch::nn::ModuleList());
  for (const int64_t channels : in_channels_list) {
    if (channels <= 0) throw UsageError("FeaturePyramidNetwork: in_channels must be positive");
    inner_blocks->push_back(ConvBlock(channels, out_channels, 1));
    layer_blocks->push_back(ConvBlock(out_channels, out_channels, 3));
  }
  inner_kernels.resize(in_channels_list.size());
  layer_kernels.resize(in_channels_list.size());
}

std::vector<ConvSlot> FeaturePyramidNetworkImpl::ConvSlots() {
  std::vector<ConvSlot> slots;
  for (size_t i = 0; i < in_channels_list.size(); ++i) {
    const std::string n = std::to_string(i);
    // The coarsest level's lateral has nothing to add; a kernel built to add takes `add` undefined too.
    slots.push_back({"inner_blocks." + n + ".0", ConvOf(inner_blocks, i), nullptr, Activation::kNone,
                     i + 1 < in_channels_list.size(), &inner_kernels[i]});
    slots.push_back({"layer_blocks." + n + ".0", ConvOf(layer_blocks, i), nullptr, Activation::kNone, false,
                     &layer_kernels[i]});
  }
  return slots;
}

FeatureMaps FeaturePyramidNetworkImpl::forward(const FeatureMaps& features) {
  const size_t levels = in_channels_list.size();
  if (features.size() != levels) {
    throw UsageError("FeaturePyramidNetwork: got " + std::to_string(features.size()) + " feature maps, expected " +
                     std::to_string(levels));
  }
  std::vector<torch::Tensor> results(levels);
  torch::Tensor last_inner = RunBlock(inner_blocks, inner_kernels, levels - 1, features.back().second);
  results[levels - 1] = RunBlock(layer_blocks, layer_kernels, levels - 1, last_inner);
  for (size_t i = levels - 1; i-- > 0;) {
    // The lateral 1x1 keeps its input's size, so the coarser level is upsampled to that first and
    // added to the lateral as it is computed (a kernel fuses the sum).
    const torch::Tensor& input = features[i].second;
    const torch::Tensor top_down = torch::nn::functional::interpolate(
        last_inner, torch::nn::functional::InterpolateFuncOptions()
                        .size(std::vector<int64_t>{input.size(-2), input.size(-1)})
                        .mode(torch::kNearest));
    last_inner = RunBlock(inner_blocks, inner_kernels, i, input, top_down);
    results[i] = RunBlock(layer_blocks, layer_kernels, i, last_inner);
  }
  FeatureMaps out;
  for (size_t i = 0; i < levels; ++i) out.emplace_back(features[i].first, results[i]);
  if (last_level_max_pool) out.emplace_back("pool", torch::max_pool2d(results.back(), {1, 1}, {2, 2}, {0, 0}));
  return out;
}

}  // namespace segtune::detection
