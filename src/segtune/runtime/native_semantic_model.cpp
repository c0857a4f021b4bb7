#include "segtune/runtime/native_semantic_model.h"

#include <algorithm>

#include "segtune/core/error.h"

namespace segtune {

const std::vector<std::string>& NativeRuntimeArchitectures() {
  static const std::vector<std::string> names{"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"};
  return names;
}

bool NativeRuntimeBuilds(const std::string& architecture) {
  const auto& names = NativeRuntimeArchitectures();
  return std::find(names.begin(), names.end(), architecture) != names.end();
}

namespace {

// Both architectures' backbone: MobileNetV3-Large with the dilated last stage (torchvision's
// segmentation models). Throws UsageError for an architecture the runtime does not build.
MobileNetV3Features BackboneOf(const std::string& architecture, const StateDict& weights) {
  if (!NativeRuntimeBuilds(architecture)) {
    throw UsageError("the LibTorch-free runtime does not build " + architecture);
  }
  return MobileNetV3Features(weights, "backbone.", /*dilated=*/true);
}

}  // namespace

NativeSemanticModel::NativeSemanticModel(const std::string& architecture, int64_t num_classes,
                                         const StateDict& weights)
    : architecture_(architecture), num_classes_(num_classes), backbone_(BackboneOf(architecture, weights)) {
  const std::vector<int> stages = backbone_.StageIndices();
  // torchvision: the head reads the last stage; LR-ASPP also stage_indices[-4] (output stride 8).
  high_ = stages.back();
  low_ = stages[stages.size() - 4];
  if (architecture == "lraspp_mobilenet_v3_large") {
    lraspp_ = std::make_unique<LrasppHead>(weights, backbone_.OutChannels(low_), backbone_.OutChannels(high_),
                                           num_classes);
  } else {
    deeplab_ = std::make_unique<DeepLabHead>(weights, backbone_.OutChannels(high_), num_classes);
  }
}

NhwcTensor NativeSemanticModel::HeadLogits(NhwcTensor x, Workspace& workspace) const {
  if (lraspp_) {
    std::vector<NhwcTensor> features = backbone_.Forward(std::move(x), {low_, high_}, workspace);
    return lraspp_->Forward(features[0], features[1], workspace);
  }
  std::vector<NhwcTensor> features = backbone_.Forward(std::move(x), {high_}, workspace);
  return deeplab_->Forward(features[0], workspace);
}

int NativeSemanticModel::convolutions() const {
  return backbone_.convolutions() + (lraspp_ ? lraspp_->convolutions() : deeplab_->convolutions());
}

}  // namespace segtune
