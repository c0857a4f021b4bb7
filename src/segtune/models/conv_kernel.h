// The seam between segtune's models and an inference engine: a block may hand its convolutions to a
// ConvKernel (export/conv_kernels.h installs them in a prepared model), and runs LibTorch for every
// convolution that has none. The models never know which engine computes a kernel.
//
// A block that offers its convolutions is a ConvKernelHost: it lists them as ConvSlots (the
// convolution, the activation it applies after it, and where it looks for a kernel). Its forward()
// asks the kernel first (RunConvKernel) and, when there is none or the kernel declines the input,
// computes exactly what it computed before.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace segtune {

enum class Activation;  // runtime/activation.h.
class FoldableBatchNorm2dImpl;

// One convolution computed outside LibTorch, for inference on a prepared (BatchNorm-folded) model.
class ConvKernel {
 public:
  virtual ~ConvKernel() = default;
  // activation(conv(x) + bias + add) as [N, out, h, w]. `add` (undefined: nothing added) has the
  // output's shape. Returns an undefined tensor when this kernel cannot take `x` or `add` (dtype,
  // device, channel count): the caller then computes the convolution in LibTorch.
  virtual torch::Tensor Run(const torch::Tensor& x, const torch::Tensor& add) = 0;
};
using ConvKernelPtr = std::shared_ptr<ConvKernel>;

// A convolution a block can hand to a kernel.
struct ConvSlot {
  std::string path;                     // Module path of the convolution below the block ("0", "fc1", "cbr.0").
  torch::nn::Conv2dImpl* conv = nullptr;
  // The BatchNorm the block applies to conv's output (null: none). A kernel computes conv with its
  // folded bias only, so it may replace the pair only once this is folded.
  const FoldableBatchNorm2dImpl* bn = nullptr;
  Activation activation{};  // (kNone) Applied after conv (+ bn) and after any fused addition.
  bool adds = false;                          // The block passes `add` (a residual or a sum of branches).
  ConvKernelPtr* kernel = nullptr;            // Where the block looks for its kernel.
};

// A block whose forward() uses kernels from its slots when set.
class ConvKernelHost {
 public:
  virtual ~ConvKernelHost() = default;
  virtual std::vector<ConvSlot> ConvSlots() = 0;
};

// kernel->Run(x, add) when a kernel is set, else (and when it declines) an undefined tensor.
inline torch::Tensor RunConvKernel(const ConvKernelPtr& kernel, const torch::Tensor& x,
                                   const torch::Tensor& add = {}) {
  return kernel ? kernel->Run(x, add) : torch::Tensor();
}

}  // namespace segtune
