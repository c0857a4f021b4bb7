// Which checkpoint tensors are class-specific, and how ImageNet classification checkpoints map onto
// a segmentation model's backbone. Used by training (fine-tuning from torchvision zoo files) and by
// load_state.h's transfer surgery.
#pragma once

#include <string>
#include <vector>

#include "segtune/models/weights.h"

namespace segtune {

// Prefixes of the layers whose shape depends on num_classes, for registry model `model_name`:
// {"classifier.low_classifier", "classifier.high_classifier"} for LR-ASPP,
// {"classifier.4", "aux_classifier.4"} for DeepLabV3 and FCN. Throws UsageError for an unknown model.
std::vector<std::string> ClassSpecificPrefixes(const std::string& model_name);

// True if `key` is a tensor of one of the class-specific layers (prefix followed by '.').
bool IsClassSpecific(const std::string& key, const std::vector<std::string>& prefixes);

struct BackboneRemap {
  NamedTensors tensors;               // Keys renamed to the segmentation model's ("backbone.*").
  std::vector<std::string> dropped;   // Classification-only keys (ImageNet classifier / fc).
};

// Renames an ImageNet classification checkpoint of the model's backbone (torchvision
// mobilenet_v3_large / resnet50 / resnet101 state_dict) to the segmentation model's keys:
// MobileNetV3 "features.N.*" -> "backbone.N.*"; ResNet "conv1.*", "layerK.*" ... -> "backbone.*".
// The classification head (MobileNetV3 "classifier.*", ResNet "fc.*") is dropped and listed.
// Throws FormatError (naming `source`) if no key looks like that backbone's.
BackboneRemap RemapImageNetBackbone(const std::string& model_name, const NamedTensors& imagenet,
                                    const std::string& source);

}  // namespace segtune
