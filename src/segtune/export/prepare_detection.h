// The detection counterpart of PrepareForInference (prepare_inference.h): what `segtune infer` and
// `segtune eval --model` do to a detection model before running it.
//
//   DetectionBundle bundle = LoadDetectionBundle(dir);
//   PrepareDetectionForInference(*bundle.model, torch::kCPU);
//   torch::NoGradGuard no_grad;
//   DetectionOutput out = bundle.model->forward(images);
//
// Eval mode, on `device`; every BatchNorm that follows a convolution folded into it (the backbone's,
// frozen or not); on the CPU the convolution weights channels-last and the convolutions handed to the
// engine (export/conv_kernels.h): the backbone body's blocks (MobileNetV3, ResNet), the FPN and the
// RPN head have kernel slots; the RoI heads (Mask R-CNN's mask branch included) stay in LibTorch. The
// detections equal torchvision's within the float bounds of
// DetectionParity.PreparedForInferenceWithOneDnnMatchesTorchvision (tests/detection). The weights
// change for good: reload the model to train it.
#pragma once

#include <torch/types.h>

#include "segtune/export/prepare_inference.h"

namespace segtune {
namespace detection {
class GeneralizedRCNNImpl;
}  // namespace detection

InferencePreparation PrepareDetectionForInference(detection::GeneralizedRCNNImpl& model, const torch::Device& device,
                                                  const PrepareOptions& options = {});

}  // namespace segtune
