#include "segtune/runtime/mobilenet_v3_features.h"

#include <algorithm>

#include "segtune/runtime/nhwc_ops.h"

namespace segtune {
namespace {

constexpr double kEps = 1e-3;  // torchvision's MobileNetV3 BatchNorm.

Activation BlockActivation(const InvertedResidualConfig& c) {
  return c.use_hs ? Activation::kHardswish : Activation::kReLU;
}

}  // namespace

MobileNetV3Features::MobileNetV3Features(const StateDict& dict, const std::string& prefix, bool dilated)
    : config_(MobileNetV3LargeConfig(dilated)) {
  const int64_t first = config_.front().input_channels;
  stem_ = ConvLayer(dict, prefix + "0.0", prefix + "0.1", kEps, SquareConv(3, first, 3, 2), Activation::kHardswish);
  for (size_t i = 0; i < config_.size(); ++i) {
    const InvertedResidualConfig& c = config_[i];
    const std::string p = prefix + std::to_string(i + 1) + ".block.";
    const Activation act = BlockActivation(c);
    Block b;
    int k = 0;  // The Sequential's index of the next layer.
    if (c.expanded_channels != c.input_channels) {
      b.expand = ConvLayer(dict, p + "0.0", p + "0.1", kEps, SquareConv(c.input_channels, c.expanded_channels, 1), act);
      k = 1;
    }
    // Dilation replaces the stride (torchvision keeps the resolution of the dilated stage).
    const int64_t stride = c.dilation > 1 ? 1 : c.stride;
    const std::string dw = p + std::to_string(k++);
    b.depthwise = ConvLayer(dict, dw + ".0", dw + ".1", kEps,
                            SquareConv(c.expanded_channels, c.expanded_channels, c.kernel, stride, c.dilation,
                                       c.expanded_channels),
                            act);
    if (c.use_se) {
      const std::string se = p + std::to_string(k++);
      const int64_t squeeze = MakeDivisible(static_cast<double>(c.expanded_channels / 4), 8);
      b.squeeze = ConvLayer(dict, se + ".fc1", "", 0, SquareConv(c.expanded_channels, squeeze, 1), Activation::kReLU);
      b.excite = ConvLayer(dict, se + ".fc2", "", 0, SquareConv(squeeze, c.expanded_channels, 1),
                           Activation::kHardsigmoid);
    }
    const std::string pr = p + std::to_string(k);
    b.project = ConvLayer(dict, pr + ".0", pr + ".1", kEps, SquareConv(c.expanded_channels, c.out_channels, 1),
                          Activation::kNone);
    b.residual = c.stride == 1 && c.input_channels == c.out_channels;
    blocks_.push_back(std::move(b));
  }
  const int64_t last_in = config_.back().out_channels;
  const std::string last = prefix + std::to_string(config_.size() + 1);
  last_ = ConvLayer(dict, last + ".0", last + ".1", kEps, SquareConv(last_in, 6 * last_in, 1), Activation::kHardswish);
}

NhwcTensor MobileNetV3Features::Block::Forward(NhwcTensor x, Workspace& workspace) const {
  NhwcTensor y = expand ? expand(x, workspace) : NhwcTensor();
  y = depthwise(expand ? y : x, workspace);
  if (squeeze) {
    const NhwcTensor pooled = GlobalAveragePool(y, workspace);
    const NhwcTensor scale = excite(squeeze(pooled, workspace), workspace);
    ScaleChannels(y, scale);
  }
  // The residual is added by project's sum post-op, over x's own memory.
  return residual ? project.Add(y, std::move(x)) : project(y, workspace);
}

std::vector<NhwcTensor> MobileNetV3Features::Forward(NhwcTensor x, const std::vector<int>& outputs,
                                                     Workspace& workspace) const {
  std::vector<NhwcTensor> kept;
  const int stop = outputs.empty() ? 0 : *std::max_element(outputs.begin(), outputs.end());
  const auto keep = [&](int index, NhwcTensor& t) {
    if (std::find(outputs.begin(), outputs.end(), index) == outputs.end()) return;
    NhwcTensor copy = workspace.Take(t.n, t.h, t.w, t.c);  // The next block may write over t (residual).
    std::copy(t.data(), t.data() + t.size(), copy.data());
    kept.push_back(std::move(copy));
  };
  x = stem_(x, workspace);
  keep(0, x);
  for (int i = 1; i <= stop && i <= static_cast<int>(blocks_.size()); ++i) {
    x = blocks_[static_cast<size_t>(i - 1)].Forward(std::move(x), workspace);
    keep(i, x);
  }
  if (stop == static_cast<int>(blocks_.size()) + 1) {
    x = last_(x, workspace);
    kept.push_back(std::move(x));
  }
  return kept;
}

std::vector<int> MobileNetV3Features::StageIndices() const {
  std::vector<int> indices{0};
  for (size_t i = 0; i < config_.size(); ++i) {
    if (config_[i].stride > 1) indices.push_back(static_cast<int>(i + 1));
  }
  indices.push_back(static_cast<int>(config_.size() + 1));
  return indices;
}

int64_t MobileNetV3Features::OutChannels(int index) const {
  if (index == 0) return config_.front().input_channels;
  if (index == static_cast<int>(config_.size()) + 1) return 6 * config_.back().out_channels;
  return config_.at(static_cast<size_t>(index - 1)).out_channels;
}

int MobileNetV3Features::convolutions() const {
  int count = 2;
  for (const Block& b : blocks_) count += 2 + (b.expand ? 1 : 0) + (b.squeeze ? 2 : 0);
  return count;
}

}  // namespace segtune
