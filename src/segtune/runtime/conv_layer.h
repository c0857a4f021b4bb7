// A named convolution of the LibTorch-free runtime and how it runs on NHWC tensors.
#pragma once

#include <memory>
#include <string>

#include "segtune/runtime/nhwc_tensor.h"
#include "segtune/runtime/onednn_conv.h"
#include "segtune/runtime/state_dict.h"

namespace segtune {

class ConvLayer {
 public:
  ConvLayer() = default;
  // LoadConv(dict, conv, bn, ...) (state_dict.h); `conv` (e.g. "backbone.4.block.1.0") names the layer in errors.
  ConvLayer(const StateDict& dict, const std::string& conv, const std::string& bn, double eps, const ConvShape& shape,
            Activation activation);

  explicit operator bool() const { return conv_ != nullptr; }
  int64_t out_channels() const { return conv_->shape().out; }

  // activation(conv(x) + bias) in a tensor from `workspace`.
  NhwcTensor operator()(const NhwcTensor& x, Workspace& workspace) const;
  // activation(conv(x) + bias + add), written over `add` (a residual or a branch sum, consumed).
  NhwcTensor Add(const NhwcTensor& x, NhwcTensor add) const;

 private:
  void Run(const NhwcTensor& x, NhwcTensor& out, bool add) const;
  std::string name_;
  std::unique_ptr<OneDnnConv> conv_;
};

// Shapes of the layers the runtime's models use: a k x k convolution (stride, dilation, groups) with
// torch's "same-size" padding (k - 1) / 2 * dilation, as torchvision's Conv2dNormActivation pads.
ConvShape SquareConv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t dilation = 1,
                     int64_t groups = 1);

}  // namespace segtune
