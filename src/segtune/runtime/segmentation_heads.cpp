#include "segtune/runtime/segmentation_heads.h"

#include <algorithm>

#include "segtune/core/error.h"
#include "segtune/runtime/nhwc_ops.h"

namespace segtune {
namespace {

constexpr double kEps = 1e-5;  // torch's BatchNorm2d default, which the heads use.

}  // namespace

LrasppHead::LrasppHead(const StateDict& dict, int64_t low_channels, int64_t high_channels, int64_t num_classes) {
  const std::vector<int64_t>& cbr = dict.Shape("classifier.cbr.0.weight");
  if (cbr.size() != 4 || cbr[0] < 1) {
    throw FormatError(dict.path().string() + ": tensor 'classifier.cbr.0.weight' is not a convolution's weight");
  }
  const int64_t inter = cbr[0];
  cbr_ = ConvLayer(dict, "classifier.cbr.0", "classifier.cbr.1", kEps, SquareConv(high_channels, inter, 1),
                   Activation::kReLU);
  scale_ = ConvLayer(dict, "classifier.scale.1", "", 0, SquareConv(high_channels, inter, 1), Activation::kSigmoid);
  low_classifier_ = ConvLayer(dict, "classifier.low_classifier", "", 0, SquareConv(low_channels, num_classes, 1),
                              Activation::kNone);
  high_classifier_ = ConvLayer(dict, "classifier.high_classifier", "", 0, SquareConv(inter, num_classes, 1),
                               Activation::kNone);
}

NhwcTensor LrasppHead::Forward(const NhwcTensor& low, const NhwcTensor& high, Workspace& workspace) const {
  NhwcTensor x = cbr_(high, workspace);
  ScaleChannels(x, scale_(GlobalAveragePool(high, workspace), workspace));
  x = ResizeBilinear(x, low.h, low.w, workspace);
  return high_classifier_.Add(x, low_classifier_(low, workspace));
}

DeepLabHead::DeepLabHead(const StateDict& dict, int64_t in_channels, int64_t num_classes) {
  constexpr int64_t kOut = 256;
  const std::string aspp = "classifier.0.";
  branches_.emplace_back(dict, aspp + "convs.0.0", aspp + "convs.0.1", kEps, SquareConv(in_channels, kOut, 1),
                         Activation::kReLU);
  const int64_t rates[] = {12, 24, 36};
  for (int i = 0; i < 3; ++i) {
    const std::string p = aspp + "convs." + std::to_string(i + 1);
    branches_.emplace_back(dict, p + ".0", p + ".1", kEps, SquareConv(in_channels, kOut, 3, 1, rates[i]),
                           Activation::kReLU);
  }
  pooling_ = ConvLayer(dict, aspp + "convs.4.1", aspp + "convs.4.2", kEps, SquareConv(in_channels, kOut, 1),
                       Activation::kReLU);
  project_ = ConvLayer(dict, aspp + "project.0", aspp + "project.1", kEps, SquareConv(5 * kOut, kOut, 1),
                       Activation::kReLU);
  conv_ = ConvLayer(dict, "classifier.1", "classifier.2", kEps, SquareConv(kOut, kOut, 3), Activation::kReLU);
  classifier_ = ConvLayer(dict, "classifier.4", "", 0, SquareConv(kOut, num_classes, 1), Activation::kNone);
}

NhwcTensor DeepLabHead::Forward(const NhwcTensor& x, Workspace& workspace) const {
  const int64_t width = pooling_.out_channels();
  NhwcTensor all = workspace.Take(x.n, x.h, x.w, width * 5);
  for (size_t i = 0; i < branches_.size(); ++i) {
    CopyChannels(branches_[i](x, workspace), all, static_cast<int64_t>(i) * width);
  }
  // The pooling branch is 1x1, so its bilinear resize to x's size is a broadcast.
  const NhwcTensor pooled = pooling_(GlobalAveragePool(x, workspace), workspace);
  for (int64_t i = 0; i < x.n; ++i) {
    const float* value = pooled.pixel(i, 0, 0);
    for (int64_t k = 0; k < x.h * x.w; ++k) {
      std::copy(value, value + width, all.pixel(i, 0, 0) + k * all.c + 4 * width);
    }
  }
  const NhwcTensor projected = project_(all, workspace);  // Dropout: identity at inference.
  return classifier_(conv_(projected, workspace), workspace);
}

}  // namespace segtune
