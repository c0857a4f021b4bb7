#include "segtune/models/semantic_registry.h"

#include <torch/torch.h>

#include <iomanip>
#include <sstream>

#include "segtune/core/error.h"
#include "segtune/models/deeplabv3.h"
#include "segtune/models/fcn.h"
#include "segtune/models/lraspp.h"
#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/resnet.h"

namespace segtune {
namespace {

void CheckArguments(const SemanticModelInfo& info, int64_t num_classes, bool aux_loss) {
  if (num_classes < 1) {
    throw UsageError(info.name + ": num_classes must be at least 1, got " + std::to_string(num_classes));
  }
  if (aux_loss && !info.supports_aux) {
    throw UsageError(info.name + ": this model has no auxiliary head (aux_loss is not supported)");
  }
}

// torchvision _deeplabv3_mobilenetv3 / _deeplabv3_resnet / _fcn_resnet.
template <typename Head>
SemanticModel SimpleModel(const std::string& name, std::shared_ptr<BackboneImpl> backbone, int64_t out_channels,
                              const std::string& out_layer, int64_t aux_channels, const std::string& aux_layer,
                              int64_t num_classes, bool aux_loss) {
  const SemanticModelInfo& info = FindSemanticModelInfo(name);
  ReturnLayers return_layers{{out_layer, "out"}};
  if (aux_loss) return_layers[aux_layer] = "aux";
  backbone->set_return_layers(return_layers);
  std::shared_ptr<SemanticHeadImpl> aux_head;
  if (aux_loss) aux_head = FCNHead(aux_channels, num_classes).ptr();
  return std::make_shared<SimpleSegmentationModelImpl>(info, num_classes, std::move(backbone),
                                                       Head(out_channels, num_classes).ptr(), std::move(aux_head));
}

template <typename Head>
SemanticModel MobileNetModel(const std::string& name, int64_t num_classes, bool aux_loss) {
  CheckArguments(FindSemanticModelInfo(name), num_classes, aux_loss);
  MobileNetV3LargeBackbone backbone(/*dilated=*/true);
  // torchvision: out = C5 (stage_indices[-1]), aux = C2 (stage_indices[-4]).
  const std::vector<int> stages = backbone->StageIndices();
  const int out_pos = stages.back(), aux_pos = stages[stages.size() - 4];
  return SimpleModel<Head>(name, backbone.ptr(), backbone->OutChannels(out_pos), std::to_string(out_pos),
                           backbone->OutChannels(aux_pos), std::to_string(aux_pos), num_classes, aux_loss);
}

template <typename Head>
SemanticModel ResNetModel(const std::string& name, ResNetBackbone (*make_backbone)(), int64_t num_classes,
                              bool aux_loss) {
  CheckArguments(FindSemanticModelInfo(name), num_classes, aux_loss);
  ResNetBackbone backbone = make_backbone();
  return SimpleModel<Head>(name, backbone.ptr(), 2048, "layer4", 1024, "layer3", num_classes, aux_loss);
}

}  // namespace

SemanticModel LrasppMobileNetV3Large(int64_t num_classes) {
  const SemanticModelInfo& info = FindSemanticModelInfo("lraspp_mobilenet_v3_large");
  CheckArguments(info, num_classes, false);
  return std::make_shared<LRASPPImpl>(info, MobileNetV3LargeBackbone(/*dilated=*/true), num_classes);
}

SemanticModel DeepLabV3MobileNetV3Large(int64_t num_classes, bool aux_loss) {
  return MobileNetModel<DeepLabHead>("deeplabv3_mobilenet_v3_large", num_classes, aux_loss);
}
SemanticModel DeepLabV3ResNet50(int64_t num_classes, bool aux_loss) {
  return ResNetModel<DeepLabHead>("deeplabv3_resnet50", &ResNet50Backbone, num_classes, aux_loss);
}
SemanticModel DeepLabV3ResNet101(int64_t num_classes, bool aux_loss) {
  return ResNetModel<DeepLabHead>("deeplabv3_resnet101", &ResNet101Backbone, num_classes, aux_loss);
}
SemanticModel FcnResNet50(int64_t num_classes, bool aux_loss) {
  return ResNetModel<FCNHead>("fcn_resnet50", &ResNet50Backbone, num_classes, aux_loss);
}
SemanticModel FcnResNet101(int64_t num_classes, bool aux_loss) {
  return ResNetModel<FCNHead>("fcn_resnet101", &ResNet101Backbone, num_classes, aux_loss);
}

SemanticModel CreateSemanticModel(const std::string& name, int64_t num_classes, bool aux_loss) {
  const SemanticModelInfo& info = FindSemanticModelInfo(name);  // Unknown names throw here.
  if (name == "lraspp_mobilenet_v3_large") {
    CheckArguments(info, num_classes, aux_loss);
    return LrasppMobileNetV3Large(num_classes);
  }
  if (name == "deeplabv3_mobilenet_v3_large") return DeepLabV3MobileNetV3Large(num_classes, aux_loss);
  if (name == "deeplabv3_resnet50") return DeepLabV3ResNet50(num_classes, aux_loss);
  if (name == "deeplabv3_resnet101") return DeepLabV3ResNet101(num_classes, aux_loss);
  if (name == "fcn_resnet50") return FcnResNet50(num_classes, aux_loss);
  return FcnResNet101(num_classes, aux_loss);
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

void PrintSemanticModelTable(std::ostream& out) {
  std::ostringstream table;
  table << std::left << std::setw(30) << "model" << std::right << std::setw(12) << "parameters" << "  "
        << std::left << std::setw(46) << "input normalization" << std::setw(5) << "aux" << "zoo files\n";
  for (const auto& info : ListSemanticModels()) {
    torch::NoGradGuard no_grad;
    const int64_t params = CountParameters(*CreateSemanticModel(info.name, 21, info.supports_aux));
    std::ostringstream norm;
    norm << std::setprecision(3) << "mean " << info.mean[0] << "," << info.mean[1] << "," << info.mean[2] << " std "
         << info.std[0] << "," << info.std[1] << "," << info.std[2];
    std::string files;
    for (const auto& f : info.zoo_files) files += (files.empty() ? "" : ", ") + f;
    for (const auto& f : info.backbone_zoo_files) files += ", " + f + " (backbone)";
    table << std::left << std::setw(30) << info.name << std::right << std::setw(12) << params << "  " << std::left
          << std::setw(46) << norm.str() << std::setw(5) << (info.supports_aux ? "yes" : "no") << files << "\n";
  }
  out << table.str();
}

}  // namespace segtune
