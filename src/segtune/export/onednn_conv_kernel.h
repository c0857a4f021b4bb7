// A ConvKernel (models/conv_kernel.h) computed by oneDNN (libdnnl 2.6, the library LibTorch itself
// links) through runtime/onednn_conv.h, on the channels-last tensors' own memory.
//
// Why: at batch 1 it computes MobileNetV3's convolutions 1.3-4x faster than LibTorch 1.13's modules
// (docs/models.md, "Inference kernels"): LibTorch sends 1x1s to OpenBLAS at one thread, reorders
// weights and looks up primitives on every call, and runs each activation as a separate pass.
#pragma once

#include <torch/nn/modules/conv.h>

#include <string>

#include "segtune/models/conv_kernel.h"
#include "segtune/models/layers.h"
#include "segtune/runtime/onednn_conv.h"

namespace segtune {

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

}  // namespace segtune
