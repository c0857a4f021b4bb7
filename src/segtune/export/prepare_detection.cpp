#include "segtune/export/prepare_detection.h"

#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/layers.h"

namespace segtune {

InferencePreparation PrepareDetectionForInference(detection::GeneralizedRCNNImpl& model, const torch::Device& device,
                                                  const PrepareOptions& options) {
  return PrepareModuleForInference(model, device, options, [&](bool on) {
    // The layout oneDNN computes in, so the convolutions left in LibTorch skip a reorder too.
    if (on) SetWeightsMemoryFormat(model, torch::MemoryFormat::ChannelsLast);
  });
}

}  // namespace segtune
