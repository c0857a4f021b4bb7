#include "segtune/models/detection/detection_registry.h"

#include <torch/nn/module.h>

#include <set>

#include "segtune/core/error.h"
#include "segtune/models/detection/frozen_batch_norm.h"
#include "segtune/models/transfer_keys.h"

namespace segtune::detection {

const std::vector<DetectionModelInfo>& ListDetectionModels() {
  static const std::vector<DetectionModelInfo> models{
      {"fasterrcnn_resnet50_fpn", "resnet50", false, {"roi_heads.box_predictor"}, 91,
       "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth", "Faster R-CNN, ResNet-50 FPN (torchvision, COCO box AP 37.0)"},
      {"fasterrcnn_mobilenet_v3_large_fpn", "mobilenet_v3_large", false, {"roi_heads.box_predictor"}, 91,
       "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth",
       "Faster R-CNN, MobileNetV3-Large FPN, 800 px (torchvision, COCO box AP 32.8)"},
      {"fasterrcnn_mobilenet_v3_large_320_fpn", "mobilenet_v3_large", false, {"roi_heads.box_predictor"}, 91,
       "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth",
       "Faster R-CNN, MobileNetV3-Large FPN, 320 px, mobile (torchvision, COCO box AP 22.8)"},
      {"maskrcnn_resnet50_fpn", "resnet50", true,
       {"roi_heads.box_predictor", "roi_heads.mask_predictor.mask_fcn_logits"}, 91,
       "maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth",
       "Mask R-CNN, ResNet-50 FPN (torchvision, COCO box AP 37.9, mask AP 34.6)"},
  };
  return models;
}

bool IsDetectionModel(const std::string& name) {
  for (const auto& info : ListDetectionModels()) {
    if (info.name == name) return true;
  }
  return false;
}

const DetectionModelInfo& GetDetectionModelInfo(const std::string& name) {
  std::string known;
  for (const auto& info : ListDetectionModels()) {
    if (info.name == name) return info;
    known += (known.empty() ? "" : ", ") + info.name;
  }
  throw UsageError("unknown detection model '" + name + "' (known: " + known + ")");
}

LoadReport LoadDetectionWeights(torch::nn::Module& model, const std::string& model_name, const NamedTensors& tensors,
                                const DetectionLoadOptions& options) {
  const DetectionModelInfo& info = GetDetectionModelInfo(model_name);
  // Supply the model's own BatchNorm counters where the file (FrozenBatchNorm2d) has none, so strict
  // matching concerns only real weights.
  NamedTensors complete = tensors;
  std::set<std::string> in_file;
  for (const auto& item : tensors.items) in_file.insert(item.first);
  for (const auto& buffer : model.named_buffers()) {
    if (IsBatchNormCounter(buffer.key()) && !in_file.count(buffer.key())) {
      complete.items.emplace_back(buffer.key(), buffer.value().clone());
    }
  }
  LoadOptions load;
  load.strict = options.strict;
  load.reinit_mismatched = options.transfer;
  // Check first that only class-specific layers mismatch: nothing is copied when this throws.
  if (options.transfer) {
    const auto params = model.named_parameters();
    const auto buffers = model.named_buffers();
    for (const auto& [key, tensor] : complete.items) {
      const torch::Tensor* mine = params.find(key);
      if (mine == nullptr) mine = buffers.find(key);
      if (mine != nullptr && mine->sizes() != tensor.sizes() && !IsClassSpecific(key, info.class_specific_prefixes)) {
        throw FormatError("loading weights into " + model_name + ": " + key + " has shape " + c10::str(tensor.sizes()) +
                          " in the file and " + c10::str(mine->sizes()) +
                          " in the model; only the class-specific layers may differ");
      }
    }
  }
  return LoadStateDict(model, complete, load);
}

}  // namespace segtune::detection
