#include "segtune/engine/finetune.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
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

}  // namespace

LoadReport LoadFineTuneCheckpoint(SegmentationModelImpl& model, const std::filesystem::path& path,
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
  if (report.loaded.empty()) {
    throw FormatError(path, "",
                      "no tensor matches model " + model.info().name +
                          " by name and shape: is this a checkpoint of another architecture? " + report.ToString());
  }
  return report;
}

}  // namespace segtune
