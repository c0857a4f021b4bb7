#include "segtune/runtime/conv_layer.h"

namespace segtune {

ConvLayer::ConvLayer(const StateDict& dict, const std::string& conv, const std::string& bn, double eps,
                     const ConvShape& shape, Activation activation)
    : name_(conv) {
  try {
    conv_ = LoadConv(dict, conv, bn, eps, shape, activation);
  } catch (const KernelUnavailable& e) {
    throw KernelUnavailable(conv + ": " + e.what());
  }
}

NhwcTensor ConvLayer::operator()(const NhwcTensor& x, Workspace& workspace) const {
  const ConvShape& s = conv_->shape();
  NhwcTensor out = workspace.Take(x.n, s.OutHeight(x.h), s.OutWidth(x.w), s.out);
  Run(x, out, false);
  return out;
}

NhwcTensor ConvLayer::Add(const NhwcTensor& x, NhwcTensor add) const {
  const ConvShape& s = conv_->shape();
  if (add.n != x.n || add.h != s.OutHeight(x.h) || add.w != s.OutWidth(x.w) || add.c != s.out) {
    throw Error(name_ + ": the tensor to add has another shape than the convolution's output");
  }
  Run(x, add, true);
  return add;
}

void ConvLayer::Run(const NhwcTensor& x, NhwcTensor& out, bool add) const {
  if (x.c != conv_->shape().in) {
    throw Error(name_ + ": " + std::to_string(x.c) + " input channels, expected " + std::to_string(conv_->shape().in));
  }
  if (!conv_->Run(x.data(), x.n, x.h, x.w, out.data(), add)) {
    throw Error(name_ + ": oneDNN has no convolution for a " + std::to_string(x.h) + "x" + std::to_string(x.w) +
                " input");
  }
}

ConvShape SquareConv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation, int64_t groups) {
  ConvShape s;
  s.in = in;
  s.out = out;
  s.groups = groups;
  s.kernel_h = s.kernel_w = kernel;
  s.stride_h = s.stride_w = stride;
  s.dilation_h = s.dilation_w = dilation;
  s.pad_h = s.pad_w = (kernel - 1) / 2 * dilation;
  return s;
}

}  // namespace segtune
