// Building blocks shared by segtune's segmentation models, mirroring torchvision.ops.misc.
//
// Every block is a named torch::nn module whose registered child names equal torchvision's
// attribute names, so a torchvision state_dict key maps to a member by reading
// ("backbone.0.0.weight" = Conv2dNormActivation "0" -> its conv "0"). Blocks keep their
// hyper-parameters (stride, dilation, activation ...) as public members so a module walker (the
// ONNX exporter) can emit nodes from them without re-deriving anything.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "segtune/models/conv_kernel.h"
#include "segtune/runtime/activation.h"

namespace segtune {

// Applies the activation out of place (the reference uses inplace=True; results are identical).
torch::Tensor ApplyActivation(const torch::Tensor& x, Activation activation);

// BatchNorm2d settings. torchvision's default is eps=1e-5, momentum=0.1; MobileNetV3 uses
// eps=1e-3, momentum=0.01 (MobileNetV3BatchNorm()).
struct BatchNormSpec {
  double eps = 1e-5;
  double momentum = 0.1;
};
inline BatchNormSpec MobileNetV3BatchNorm() { return {1e-3, 0.01}; }

// Sums small tensors over the data-parallel replicas of a model (the engine's DataParallelGroup provides
// one). Set on the BatchNorm modules, it makes their training-mode statistics those of the global batch.
class BatchNormStatsReducer {
 public:
  virtual ~BatchNormStatsReducer() = default;
  // In place: `t` (contiguous, CPU) becomes the element-wise sum of every replica's `t`. Every replica
  // calls it in the same order with the same shapes. Throws on a failed collective.
  virtual void SumOverReplicas(at::Tensor& t) = 0;
};

// torch::nn::BatchNorm2d that can be folded away for inference. Until Fold() it is exactly
// torch::nn::BatchNorm2d (same parameters, buffers, state-dict names, train/eval behaviour; code that
// looks for BatchNorm2dImpl through as<>/dynamic_cast finds it). Fold() is called by
// FoldBatchNormInPlace (export/bn_fold.h) once the module's affine transform has been merged into the
// convolution before it: the parameters become the identity transform and forward() returns its
// input unchanged, so inference skips the BatchNorm pass entirely. Folding is for inference only and
// cannot be undone (reload the weights to train again).
// With a stats reducer set (SetStatsReducer), training-mode forward is torch.nn.SyncBatchNorm's: the
// batch mean and biased variance are computed over the samples of every replica (per-channel sum, sum of
// squares and count summed over the replicas), the running statistics are updated from them as one
// process on the global batch would (unbiased variance), and backward sums the per-channel gradient
// terms over the replicas too, so every replica's input gradient is the global batch's. Evaluation mode
// and folded modules ignore the reducer.
class FoldableBatchNorm2dImpl : public torch::nn::BatchNorm2dImpl {
 public:
  explicit FoldableBatchNorm2dImpl(const torch::nn::BatchNorm2dOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // x itself once folded.
  void Fold();
  bool folded() const { return folded_; }
  void SetStatsReducer(std::shared_ptr<BatchNormStatsReducer> reducer) { reducer_ = std::move(reducer); }
  // Defined here: libtorch does not export BatchNormImplBase's, which a subclass's vtable needs.
  void pretty_print(std::ostream& stream) const override;

 private:
  torch::Tensor SynchronisedForward(const torch::Tensor& x);

  bool folded_ = false;
  std::shared_ptr<BatchNormStatsReducer> reducer_;
};
TORCH_MODULE(FoldableBatchNorm2d);

FoldableBatchNorm2d MakeBatchNorm(int64_t channels, const BatchNormSpec& spec);

// Sets `reducer` on every FoldableBatchNorm2d under `root` (nullptr: back to per-replica statistics);
// returns how many there are.
int SynchroniseBatchNorm(torch::nn::Module& root, const std::shared_ptr<BatchNormStatsReducer>& reducer);

// adaptive_avg_pool2d(x, 1): [N, C, H, W] -> [N, C, 1, 1], the same values. Its gradient is the
// upstream gradient divided by H*W and broadcast (a stride-0 view) rather than written out at full
// size as LibTorch's mean backward does: the same numbers, but the global pools of squeeze-excitation,
// LR-ASPP and DeepLabV3, whose input always has another consumer, cost one pass less in backward
// (the broadcast is read when the two gradients are summed).
torch::Tensor GlobalAveragePool(const torch::Tensor& x);

// Every 4-D parameter and buffer of `module` (convolution weights) rewritten in `format`, in place
// (libtorch 1.13's Module::to() takes no memory format).
void SetWeightsMemoryFormat(torch::nn::Module& module, torch::MemoryFormat format);

// Bilinear resize with align_corners=False, as F.interpolate(mode="bilinear") in torchvision.
torch::Tensor ResizeBilinear(const torch::Tensor& x, int64_t height, int64_t width);

// torchvision.ops.misc.Conv2dNormActivation: Conv2d (no bias) -> BatchNorm2d -> activation.
// Children: "0" = conv, "1" = bn (the activation "2" has no parameters and is `activation`).
// Padding is (kernel_size - 1) / 2 * dilation, as torchvision computes it. Its one ConvSlot is the conv
// (with bn and the activation); `kernel`, when set, computes all three.
struct Conv2dNormActivationOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t groups = 1;
  Activation activation = Activation::kReLU;
  BatchNormSpec norm;
};

class Conv2dNormActivationImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  explicit Conv2dNormActivationImpl(const Conv2dNormActivationOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  // activation(bn(conv(x)) + add): a residual added before the activation (InvertedResidual's, whose
  // project block has none), fused into the kernel when there is one.
  torch::Tensor ForwardAdd(const torch::Tensor& x, const torch::Tensor& add);
  std::vector<ConvSlot> ConvSlots() override;

  const Conv2dNormActivationOptions options;
  const int64_t padding;
  torch::nn::Conv2d conv{nullptr};     // "0"
  FoldableBatchNorm2d bn{nullptr};  // "1"
  ConvKernelPtr kernel;                // Null: LibTorch.
};
TORCH_MODULE(Conv2dNormActivation);

// torchvision.ops.misc.SqueezeExcitation as MobileNetV3 uses it:
//   scale = scale_activation(fc2(activation(fc1(avgpool(x))))); return scale * x
// with activation = ReLU and scale_activation = Hardsigmoid. fc1/fc2 are 1x1 Conv2d with bias, each a
// ConvSlot with its activation (fc1_kernel, fc2_kernel).
class SqueezeExcitationImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  SqueezeExcitationImpl(int64_t input_channels, int64_t squeeze_channels);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<ConvSlot> ConvSlots() override;

  const int64_t input_channels;
  const int64_t squeeze_channels;
  const Activation activation = Activation::kReLU;
  const Activation scale_activation = Activation::kHardsigmoid;
  torch::nn::Conv2d fc1{nullptr};
  torch::nn::Conv2d fc2{nullptr};
  ConvKernelPtr fc1_kernel, fc2_kernel;
};
TORCH_MODULE(SqueezeExcitation);

// A Conv2d as torch::nn::Conv2d(options) builds it, except while a WeightsWillBeLoaded is alive on this
// thread: then its weight and bias are left uninitialised (torch::empty) instead of drawn from
// LibTorch's kaiming_uniform. Every segmentation model builds its convolutions with it.
torch::nn::Conv2d MakeConv2d(const torch::nn::Conv2dOptions& options);

// Scope in which models are built only to have every weight and buffer loaded right after (a strict
// load, which fails on anything missing): the random initialisations are skipped. Drawing them took
// most of building a model (~0.15 s of DeepLabV3's 11 M parameters, drawn twice in the backbone), on
// the critical path of every `segtune infer` start. Not for training: a transferred model keeps
// some of its initial values.
class WeightsWillBeLoaded {
 public:
  WeightsWillBeLoaded();
  ~WeightsWillBeLoaded();
  WeightsWillBeLoaded(const WeightsWillBeLoaded&) = delete;
  WeightsWillBeLoaded& operator=(const WeightsWillBeLoaded&) = delete;
  // True while one is alive on the calling thread.
  static bool Active();

 private:
  bool previous_;
};

// torchvision's ImageNet backbone initialisation, applied to every submodule of `root` (callable from
// root's constructor):
// Conv2d weight kaiming_normal(fan_out, relu) and bias zero; BatchNorm weight 1, bias 0;
// Linear weight normal(0, 0.01), bias 0. (Segmentation heads keep PyTorch's default init.)
// Does nothing while a WeightsWillBeLoaded is alive.
void InitializeLikeTorchvisionBackbone(torch::nn::Module& root);

}  // namespace segtune
