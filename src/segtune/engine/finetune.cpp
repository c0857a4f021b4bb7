#include "segtune/engine/finetune.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/transfer_keys.h"
#include "segtune/models/weights.h"

namespace segtune {

namespace {

// ImageNet classification state dicts have no "backbone." key at all.
bool LooksLikeClassifier(const NamedTensors& tensors) {
  for (const auto& [name, tensor] : tensors.items) {
    if (name.rfind("backbone.", 0) == 0) return false;
  }
  return true;
}

// torchvision's ImageNet resnet50 / mobilenet_v3_large state dict renamed to a detection model's
// backbone.body.* (IntermediateLayerGetter over the ResNet, or over MobileNetV3's `features`).
NamedTensors ImageNetToDetectionBackbone(const NamedTensors& imagenet) {
  NamedTensors out;
  out.metadata = imagenet.metadata;
  for (const auto& [name, tensor] : imagenet.items) {
    if (name.rfind("fc.", 0) == 0 || name.rfind("classifier.", 0) == 0) continue;
    const std::string body = name.rfind("features.", 0) == 0 ? name.substr(9) : name;
    out.items.emplace_back("backbone.body." + body, tensor);
  }
  return out;
}

void ThrowIfNothingLoaded(const LoadReport& report, const std::filesystem::path& path, const std::string& model) {
  if (report.loaded.empty()) {
    throw FormatError(path, "",
                      "no tensor matches model " + model +
                          " by name and shape: is this a checkpoint of another architecture? " + report.ToString());
  }
}

}  // namespace

LoadReport LoadDetectionFineTuneCheckpoint(torch::nn::Module& model, const std::string& model_name,
                                           const std::filesystem::path& path, const std::string& checkpoint_type) {
  NamedTensors tensors = LoadWeights(path);
  if (checkpoint_type == "classification" || LooksLikeClassifier(tensors)) {
    tensors = ImageNetToDetectionBackbone(tensors);
  }
  detection::DetectionLoadOptions options;
  options.transfer = true;
  options.strict = false;
  LoadReport report = detection::LoadDetectionWeights(model, model_name, tensors, options);
  ThrowIfNothingLoaded(report, path, model_name);
  return report;
}

LoadReport LoadFineTuneCheckpoint(SemanticModelImpl& model, const std::filesystem::path& path,
                                  const std::string& checkpoint_type) {
  NamedTensors tensors = LoadWeights(path);
  LoadOptions options;
  options.reinit_mismatched = true;
  const bool classification = checkpoint_type == "classification" || LooksLikeClassifier(tensors);
  if (classification) {
    BackboneRemap remap = RemapImageNetBackbone(model.info().name, tensors, path.string());
    tensors = std::move(remap.tensors);
    options.only_prefixes = {"backbone."};
  }
  LoadReport report = LoadStateDict(model, tensors, options);
  ThrowIfNothingLoaded(report, path, model.info().name);
  return report;
}

}  // namespace segtune
