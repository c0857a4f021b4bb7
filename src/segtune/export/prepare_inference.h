// The one way segtune makes a segmentation model fast for inference (segtune infer, the export
// latency bench, models_bench): eval mode, on `device`, BatchNorm folded into the convolutions
// (skipped in forward, bn_fold.h), channels-last (NHWC) on CPU, no parameter requiring grad (so
// autograd records nothing even without a guard), and on CPU the convolutions handed to the chosen
// engine's kernels (conv_kernels.h; oneDNN by default), layer by layer.
//
//   SemanticModel model = ...;  // weights loaded
//   PrepareForInference(*model, torch::kCPU);
//   c10::InferenceMode inference;    // in the calling scope, around forward()
//   SemanticOutput out = model->forward(images);
//
// The model's outputs equal the unprepared eval-mode outputs up to float rounding of the folded
// weights and the kernels' summation order (~1e-6 relative). The weights are changed for good: do not
// train or save the model afterwards (reload it instead).
#pragma once

#include <torch/types.h>

#include <functional>

#include <string>
#include <vector>

#include "segtune/export/conv_kernels.h"

namespace segtune {

class SemanticModelImpl;

struct PrepareOptions {
  InferenceEngine engine = InferenceEngine::kOneDnn;  // Off the CPU, always kTorch.
  std::vector<std::string> torch_layers;              // Convolutions kept in LibTorch (InstallConvKernels).
};

struct InferencePreparation {
  int folded_batch_norms = 0;  // Conv-BN pairs folded (0 when called twice).
  bool channels_last = false;
  InferenceEngine engine = InferenceEngine::kTorch;  // The engine in use.
  int kernels = 0;                                    // Convolutions the engine computes (0 for kTorch).
  std::vector<KernelFallback> fallbacks;              // The other convolutions, with why (empty for kTorch).
};

InferencePreparation PrepareForInference(SemanticModelImpl& model, const torch::Device& device,
                                         const PrepareOptions& options = {});

// The steps every model kind shares, for the kind-specific Prepare...ForInference functions: on
// `device`, eval mode, BatchNorms folded, set_channels_last(true on the CPU) (the model's own way to
// put weights and inputs channels-last), no parameter requiring grad, then the engine's kernels.
InferencePreparation PrepareModuleForInference(torch::nn::Module& model, const torch::Device& device,
                                               const PrepareOptions& options,
                                               const std::function<void(bool)>& set_channels_last);

// "onednn: 66 convolutions, 0 in LibTorch" and, when verbose, one line per fallback (for `-v`).
std::string DescribePreparation(const InferencePreparation& done, bool verbose);

// The class logits before the models' final resize: [N, num_classes, h, w] at the classifier's
// resolution (1/8 or 1/16 of the input's size, rounded up), in the memory format the model runs in.
// forward(x).out is these resized bilinearly (align_corners=False) to x's size; callers that only
// need per-pixel results fuse that resize into their own pass (inference/class_argmax.h) instead of
// materialising num_classes full-size planes. The auxiliary head is not run. For a model type this
// does not know, returns forward(x).out (already at x's size, so the resize is the identity).
// x: a normalized batch [N, 3, H, W]; call under InferenceMode or NoGradGuard.
torch::Tensor HeadLogits(SemanticModelImpl& model, const torch::Tensor& x);

}  // namespace segtune
