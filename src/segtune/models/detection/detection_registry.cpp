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
