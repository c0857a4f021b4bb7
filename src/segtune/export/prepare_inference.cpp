#include "segtune/export/prepare_inference.h"

#include <torch/torch.h>

#include "segtune/export/bn_fold.h"
#include "segtune/models/lraspp.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

InferencePreparation PrepareModuleForInference(torch::nn::Module& model, const torch::Device& device,
                                               const PrepareOptions& options,
                                               const std::function<void(bool)>& set_channels_last) {
  // Move first: folding gives bias-free convolutions an unregistered bias that to() would not move.
  model.to(device);
  model.eval();
  InferencePreparation done;
  done.folded_batch_norms = FoldBatchNormInPlace(model);
  // On CPU, oneDNN runs NHWC convolutions without reordering; measured faster for every registry
  // model (bench/models_bench.sh). Applied after folding, which writes new (NCHW) weight tensors.
  done.channels_last = device.is_cpu();
  set_channels_last(done.channels_last);
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  // Last: the kernels read the folded weights.
  done.engine = device.is_cpu() ? options.engine : InferenceEngine::kTorch;
  const KernelInstallation installed = InstallConvKernels(model, done.engine, options.torch_layers);
  done.kernels = installed.kernels;
  done.fallbacks = installed.fallbacks;
  return done;
}

InferencePreparation PrepareForInference(SemanticModelImpl& model, const torch::Device& device,
                                         const PrepareOptions& options) {
  return PrepareModuleForInference(model, device, options, [&](bool on) { model.SetChannelsLast(on); });
}

std::string DescribePreparation(const InferencePreparation& done, bool verbose) {
  std::string text = std::string("engine ") + InferenceEngineName(done.engine);
  if (done.engine == InferenceEngine::kTorch) return text;
  text += ": " + std::to_string(done.kernels) + " convolutions in its kernels, " +
          std::to_string(done.fallbacks.size()) + " in LibTorch";
  if (verbose) {
    for (const KernelFallback& f : done.fallbacks) text += "\n  LibTorch: " + f.layer + ": " + f.reason;
  }
  return text;
}

torch::Tensor HeadLogits(SemanticModelImpl& model, const torch::Tensor& x) {
  return model.forward_unresized(x, /*with_aux=*/false).out;
}

}  // namespace segtune
