// The inference engines segtune runs prepared models with, and installing one's convolution kernels in a
// model's blocks (models/conv_kernel.h), layer by layer: a convolution the engine cannot compute stays in
// LibTorch and is reported, with the reason, so `segtune infer -v` can say what fell back.
#pragma once

#include <string>
#include <vector>

namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace segtune {

// kTorch: LibTorch's modules throughout. kOneDnn: the convolutions (with their folded BatchNorm,
// activation and fused additions) in oneDNN primitives (export/onednn_conv_kernel.h), the rest in
// LibTorch. oneDNN is CPU-only.
enum class InferenceEngine { kTorch, kOneDnn };

const char* InferenceEngineName(InferenceEngine engine);  // "torch", "onednn".
// Parses "torch" or "onednn"; throws UsageError naming `what` (e.g. "--engine") and the choices.
InferenceEngine ParseInferenceEngine(const std::string& name, const std::string& what);

// A convolution that LibTorch computes although the engine is not kTorch.
struct KernelFallback {
  std::string layer;   // Module path of the Conv2d: "backbone.4.block.2.fc1".
  std::string reason;  // "float64 weights (only float32)", "no kernel slot in segtune::Foo".
};

struct KernelInstallation {
  int kernels = 0;                       // Convolutions the engine computes.
  std::vector<KernelFallback> fallbacks;  // Every other Conv2d under the model, in module order.
};

// Gives every ConvSlot of every ConvKernelHost under `model` a kernel of `engine` (kTorch: removes them
// all and reports nothing), except the layers named in `torch_layers` (module paths; for tests and for
// bisecting a numerical difference) and slots whose BatchNorm is not folded. Reads the weights now:
// call after folding (PrepareForInference does), and again after changing weights.
KernelInstallation InstallConvKernels(torch::nn::Module& model, InferenceEngine engine,
                                      const std::vector<std::string>& torch_layers = {});

}  // namespace segtune
