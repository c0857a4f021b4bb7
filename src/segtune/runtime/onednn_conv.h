// One 2-D convolution computed by oneDNN (libdnnl 2.6) on NHWC float32 memory: a direct convolution
// primitive with the bias, an optional addition into the output (a sum post-op: residuals, branch
// sums) and the activation as eltwise post-ops. No LibTorch: the LibTorch-free runtime
// (native_semantic_model.h) runs whole models with it, and export/onednn_conv_kernel.h wraps it as a
// kernel inside LibTorch models.
//
// Why oneDNN: at batch 1 it computes MobileNetV3's convolutions 1.3-4x faster than LibTorch 1.13's
// modules (docs/models.md, "Inference kernels").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "segtune/core/error.h"
#include "segtune/runtime/activation.h"

namespace segtune {

// Why oneDNN cannot compute a convolution (the message says which property).
class KernelUnavailable : public Error {
 public:
  using Error::Error;
};

// A convolution's geometry, as torch::nn::Conv2d describes it (explicit zero padding).
struct ConvShape {
  int64_t in = 0, out = 0, groups = 1, kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_h = 0, pad_w = 0;

  // The output size along one axis for an input of `size` (0: the input is smaller than the kernel).
  int64_t OutHeight(int64_t height) const;
  int64_t OutWidth(int64_t width) const;
  // "onednn conv 1x1", "onednn conv dw 3x3", "onednn conv 3x3" (profiles).
  std::string Label() const;
};

class OneDnnConv {
 public:
  // weights: out x (in / groups) x kernel_h x kernel_w floats (OIHW, as torch stores them); bias: `out`
  // floats, or empty for none. Both are copied (the weights once more, reordered, per layout used).
  // Throws UsageError if the sizes disagree with `shape`.
  OneDnnConv(const ConvShape& shape, std::vector<float> weights, std::vector<float> bias, Activation activation);
  ~OneDnnConv();
  OneDnnConv(const OneDnnConv&) = delete;
  OneDnnConv& operator=(const OneDnnConv&) = delete;

  // Throws KernelUnavailable unless oneDNN describes the convolution for a small input (with the
  // addition when `adds`).
  void Probe(bool adds) const;

  // dst = activation(conv(src) + bias [+ dst's previous contents when `add`]). src: n x h x w x in
  // (NHWC, dense); dst: n x OutHeight(h) x OutWidth(w) x out. Returns false, computing nothing, for a
  // shape where oneDNN has only its (slow) reference implementation or none: the caller computes it
  // another way. Primitives are made per input shape on first use and kept (16 shapes at most).
  // Thread-safe: workers share one model.
  bool Run(const float* src, int64_t n, int64_t h, int64_t w, float* dst, bool add);

  // Whether Run also takes shapes where oneDNN has only its reference implementation (default false:
  // the LibTorch kernels fall back to LibTorch, which is faster; the runtime has no other path).
  void set_accept_reference(bool accept) { accept_reference_ = accept; }

  const ConvShape& shape() const { return shape_; }
  Activation activation() const { return activation_; }

 private:
  struct Compiled;
  struct Key {
    int64_t n, h, w;
    bool add;
    bool operator<(const Key& o) const;
  };
  std::shared_ptr<const Compiled> Compile(const Key& key);

  const ConvShape shape_;
  const Activation activation_;
  bool accept_reference_ = false;
  std::vector<float> weights_, bias_;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const Compiled>> compiled_;
  struct ReorderedWeights;
  std::vector<std::shared_ptr<ReorderedWeights>> reordered_;  // One per weight layout in use.
};

// "oneDNN x.y.z" as linked (for -v and the bench logs).
std::string OneDnnVersion();

}  // namespace segtune
