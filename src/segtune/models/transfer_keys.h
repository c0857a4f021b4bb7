// Which checkpoint tensors are class-specific, and how ImageNet classification checkpoints map onto
// a segmentation model's backbone. Used by training (fine-tuning from torchvision zoo files) and by
// load_state.h's transfer surgery.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "segtune/models/weights.h"

namespace segtune {

// Prefixes of the layers whose shape depends on num_classes, for registry model `model_name`:
// {"classifier.low_classifier", "classifier.high_classifier"} for LR-ASPP,
// {"classifier.4", "aux_classifier.4"} for DeepLabV3 and FCN. Throws UsageError for an unknown model.
std::vector<std::string> ClassSpecificPrefixes(const std::string& model_name);

// True if `key` is a tensor of one of the class-specific layers (prefix followed by '.').
bool IsClassSpecific(const std::string& key, const std::vector<std::string>& prefixes);

// How torchvision's ImageNet classification checkpoint of a backbone maps onto a segmentation
// model's keys; the one statement of these rules (RemapImageNetBackbone and the weight catalog's
// LoadOptions both use it).
struct ImageNetBackboneKeys {
  // File prefix -> model prefix, first match wins (load_state.h's LoadOptions::prefix_remap).
  std::vector<std::pair<std::string, std::string>> prefix_remap;
  // The classification head, dropped: "classifier." (MobileNetV3) or "fc." (ResNet).
  std::vector<std::string> head_prefixes;
};

// The key map for backbone `backbone` (SemanticModelInfo::backbone: "mobilenet_v3_large",
// "resnet50", "resnet101"). MobileNetV3 "features." -> "backbone."; any other backbone is read as a
// ResNet: "conv1.", "bn1.", "layer1." ... "layer4." -> "backbone." + the same.
ImageNetBackboneKeys ImageNetBackboneKeyMap(const std::string& backbone);

struct BackboneRemap {
  NamedTensors tensors;               // Keys renamed to the segmentation model's ("backbone.*").
  std::vector<std::string> dropped;   // Classification-only keys (ImageNet classifier / fc).
};

// Renames an ImageNet classification checkpoint of the model's backbone (torchvision
// mobilenet_v3_large / resnet50 / resnet101 state_dict) to the segmentation model's keys by
// ImageNetBackboneKeyMap: MobileNetV3 "features.N.*" -> "backbone.N.*"; ResNet "conv1.*",
// "layerK.*" ... -> "backbone.*". Every other key (the classification head, MobileNetV3
// "classifier.*", ResNet "fc.*") is dropped and listed.
// Throws FormatError (naming `source`) if no key looks like that backbone's.
BackboneRemap RemapImageNetBackbone(const std::string& model_name, const NamedTensors& imagenet,
                                    const std::string& source);

}  // namespace segtune
