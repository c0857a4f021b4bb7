#include "segtune/models/detection/detection_registry.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>

#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

#include "segtune/core/error.h"
#include "segtune/models/detection/frozen_batch_norm.h"
#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/semantic_registry.h"
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

namespace {

// Parameters as torchvision's num_params counts them: its FrozenBatchNorm2d holds weight and bias as
// buffers, so the backbone's BatchNorm affine tensors are not counted.
int64_t CountTorchvisionParameters(torch::nn::Module& model) {
  int64_t count = CountParameters(model);
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (module->as<torch::nn::BatchNorm2d>() == nullptr) continue;
    for (const auto& p : module->parameters(/*recurse=*/false)) count -= p.numel();
  }
  return count;
}

}  // namespace

void PrintDetectionModelTable(std::ostream& out) {
  std::ostringstream table;
  table << std::left << std::setw(40) << "detection model" << std::right << std::setw(12) << "parameters" << "  "
        << std::left << std::setw(20) << "backbone" << std::setw(7) << "masks" << "zoo file (COCO)\n";
  for (const auto& info : ListDetectionModels()) {
    GeneralizedRCNN model = BuildDetectionModel(info.name, DefaultDetectionOptions(info.name));
    const int64_t params = CountTorchvisionParameters(*model);
    table << std::left << std::setw(40) << info.name << std::right << std::setw(12) << params << "  " << std::left
          << std::setw(20) << info.backbone << std::setw(7) << (info.has_masks ? "yes" : "no") << info.zoo_file
          << "\n" << std::setw(42) << "" << info.description << "\n";
  }
  out << table.str();
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
