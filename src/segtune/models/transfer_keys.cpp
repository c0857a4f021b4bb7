#include "segtune/models/transfer_keys.h"

#include "segtune/core/error.h"
#include "segtune/models/registry.h"

namespace segtune {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

std::vector<std::string> ClassSpecificPrefixes(const std::string& model_name) {
  return FindModelInfo(model_name).class_specific_prefixes;
}

bool IsClassSpecific(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes) {
    if (StartsWith(key, prefix + ".")) return true;
  }
  return false;
}

BackboneRemap RemapImageNetBackbone(const std::string& model_name, const NamedTensors& imagenet,
                                    const std::string& source) {
  const bool mobilenet = FindModelInfo(model_name).backbone == "mobilenet_v3_large";
  BackboneRemap remap;
  remap.tensors.metadata = imagenet.metadata;
  for (const auto& [key, tensor] : imagenet.items) {
    if (mobilenet && StartsWith(key, "features.")) {
      remap.tensors.items.emplace_back("backbone." + key.substr(9), tensor);
    } else if (!mobilenet && !StartsWith(key, "fc.") && (StartsWith(key, "conv1.") || StartsWith(key, "bn1.") ||
                                                          StartsWith(key, "layer"))) {
      remap.tensors.items.emplace_back("backbone." + key, tensor);
    } else {
      remap.dropped.push_back(key);
    }
  }
  if (remap.tensors.items.empty()) {
    throw FormatError(source, "",
                      std::string("no ") + (mobilenet ? "MobileNetV3 'features.*'" : "ResNet 'conv1.*'/'layer*'") +
                          " keys: not an ImageNet checkpoint of the " + FindModelInfo(model_name).backbone +
                          " backbone of " + model_name);
  }
  return remap;
}

}  // namespace segtune
