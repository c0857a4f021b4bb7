// The one way segtune makes a segmentation model fast for inference (segtune infer, the export
// latency bench, models_bench): eval mode, on `device`, BatchNorm folded into the convolutions
// (skipped in forward, bn_fold.h), channels-last (NHWC) on CPU, and no parameter requiring grad (so
// autograd records nothing even without a guard).
//
//   SegmentationModel model = ...;  // weights loaded
//   PrepareForInference(*model, torch::kCPU);
//   c10::InferenceMode inference;    // in the calling scope, around forward()
//   SegmentationOutput out = model->forward(images);
//
// The model's outputs equal the unprepared eval-mode outputs up to float rounding of the folded
// weights (~1e-6 relative). The weights are changed for good: do not train or save the model
// afterwards (reload it instead).
#pragma once

#include <torch/types.h>

namespace segtune {

class SegmentationModelImpl;

struct InferencePreparation {
  int folded_batch_norms = 0;  // Conv-BN pairs folded (0 when called twice).
  bool channels_last = false;
};

InferencePreparation PrepareForInference(SegmentationModelImpl& model, const torch::Device& device);

}  // namespace segtune
