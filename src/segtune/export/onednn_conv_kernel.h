// A ConvKernel (models/conv_kernel.h) computed by oneDNN (libdnnl 2.6, the library LibTorch itself
// links): a direct NHWC convolution primitive with the folded bias, the residual/branch addition as a
// sum post-op and the activation as eltwise post-ops, on the channels-last tensors' own memory.
//
// Why: at batch 1 it computes MobileNetV3's convolutions 1.3-4x faster than LibTorch 1.13's modules
// (docs/models.md, "Inference kernels"): LibTorch sends 1x1s to OpenBLAS at one thread, reorders
// weights and looks up primitives on every call, and runs each activation as a separate pass.
#pragma once

#include <torch/nn/modules/conv.h>

#include <string>

#include "segtune/core/error.h"
#include "segtune/models/conv_kernel.h"
#include "segtune/models/layers.h"

namespace segtune {

// Why oneDNN cannot compute a convolution (the message says which property, e.g. "float64 weights").
class KernelUnavailable : public Error {
 public:
  using Error::Error;
};

// A kernel computing activation(conv(x) + conv.bias + add) with conv's current weights and bias (read
// now: create it after BatchNorm folding, and again after changing the weights). Checks now that
// oneDNN has a primitive for the convolution (a small probe input, with the addition when `adds`);
// throws KernelUnavailable naming what it cannot take: non-float32 or non-CPU weights, a padding mode
// other than zeros, "same"/"valid" padding, or no oneDNN primitive.
// Run() takes float32 CPU inputs of any batch and size without autograd (it declines others: the block
// then runs LibTorch). Primitives are created per input shape on first use and kept (weights reordered
// once per weight layout); shapes where oneDNN has only its reference (slow) implementation are
// declined too. Thread-safe: `segtune infer` workers share one model.
ConvKernelPtr MakeOneDnnConvKernel(const torch::nn::Conv2dImpl& conv, Activation activation, bool adds);

// "oneDNN x.y.z" as linked (for -v and the bench logs).
std::string OneDnnVersion();

}  // namespace segtune
