// The feature-extractor contract of segmentation backbones (torchvision's IntermediateLayerGetter).
//
// A backbone is the classification network cut after its last returned layer. Its children keep
// the classification network's names ("0".."16" for MobileNetV3 `features`, "conv1", "layer1"...
// for ResNet), so checkpoint keys read "backbone.<child>...". forward() runs the children in order
// and returns the outputs of the children named in return_layers under their feature names
// ("out", "aux", "low", "high").
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <string>

namespace segtune {

using FeatureMap = std::map<std::string, torch::Tensor>;
using ReturnLayers = std::map<std::string, std::string>;  // Child name -> feature name.

class BackboneImpl : public torch::nn::Module {
 public:
  virtual FeatureMap forward(const torch::Tensor& x) = 0;
  const ReturnLayers& return_layers() const { return return_layers_; }
  // Chooses which children forward() returns. Set by the model factory after construction, as
  // torchvision wraps the built network in IntermediateLayerGetter.
  void set_return_layers(ReturnLayers return_layers) { return_layers_ = std::move(return_layers); }

 protected:
  // Stores `x` under its feature name if `child` is a returned layer.
  void Collect(const std::string& child, const torch::Tensor& x, FeatureMap* features) const {
    const auto it = return_layers_.find(child);
    if (it != return_layers_.end()) (*features)[it->second] = x;
  }

 private:
  ReturnLayers return_layers_;
};

}  // namespace segtune
