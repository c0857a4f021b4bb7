#include "segtune/models/transfer_keys.h"

#include <algorithm>

#include "segtune/core/error.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool IsMobileNet(const std::string& backbone) { return StartsWith(backbone, "mobilenet"); }

}  // namespace

ImageNetBackboneKeys ImageNetBackboneKeyMap(const std::string& backbone) {
  if (IsMobileNet(backbone)) return {{{"features.", "backbone."}}, {"classifier."}};
  ImageNetBackboneKeys keys;
  for (const char* prefix : {"conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "layer4."}) {
    keys.prefix_remap.emplace_back(prefix, std::string("backbone.") + prefix);
  }
  keys.head_prefixes = {"fc."};
  return keys;
}

std::vector<std::string> ClassSpecificPrefixes(const std::string& model_name) {
  return FindSemanticModelInfo(model_name).class_specific_prefixes;
}

bool IsClassSpecific(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes) {
    if (StartsWith(key, prefix + ".")) return true;
  }
  return false;
}

BackboneRemap RemapImageNetBackbone(const std::string& model_name, const NamedTensors& imagenet,
                                    const std::string& source) {
  const std::string& backbone = FindSemanticModelInfo(model_name).backbone;
  const bool mobilenet = IsMobileNet(backbone);
  const ImageNetBackboneKeys keys = ImageNetBackboneKeyMap(backbone);
  BackboneRemap remap;
  remap.tensors.metadata = imagenet.metadata;
  for (const auto& [key, tensor] : imagenet.items) {
    const auto rule = std::find_if(keys.prefix_remap.begin(), keys.prefix_remap.end(),
                                   [&key = key](const auto& r) { return StartsWith(key, r.first); });
    if (rule == keys.prefix_remap.end()) {
      remap.dropped.push_back(key);  // The classification head, or not a backbone key at all.
    } else {
      remap.tensors.items.emplace_back(rule->second + key.substr(rule->first.size()), tensor);
    }
  }
  if (remap.tensors.items.empty()) {
    throw FormatError(source, "",
                      std::string("no ") + (mobilenet ? "MobileNetV3 'features.*'" : "ResNet 'conv1.*'/'layer*'") +
                          " keys: not an ImageNet checkpoint of the " + FindSemanticModelInfo(model_name).backbone +
                          " backbone of " + model_name);
  }
  return remap;
}

}  // namespace segtune
