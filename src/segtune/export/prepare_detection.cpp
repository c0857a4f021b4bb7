#include "segtune/export/prepare_detection.h"

#include "segtune/models/detection/generalized_rcnn.h"

namespace segtune {
namespace {

// 4-D parameters and buffers (convolution weights) channels-last: the layout oneDNN computes in,
// so the convolutions left in LibTorch skip a reorder too.
void ConvWeightsChannelsLast(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  for (auto& b : model.buffers()) {
    if (b.dim() == 4) b.set_data(b.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

}  // namespace

InferencePreparation PrepareDetectionForInference(detection::GeneralizedRCNNImpl& model, const torch::Device& device,
                                                  const PrepareOptions& options) {
  return PrepareModuleForInference(model, device, options, [&](bool on) {
    if (on) ConvWeightsChannelsLast(model);
  });
}

}  // namespace segtune
