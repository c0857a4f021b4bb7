#include "segtune/config/model_catalog.h"

#include "segtune/core/error.h"

namespace segtune {
namespace {

SemanticModelInfo MakeInfo(std::string name, std::string architecture, std::string backbone, bool supports_aux,
                           std::vector<std::string> zoo_files, std::vector<std::string> backbone_files) {
  SemanticModelInfo info;
  info.name = std::move(name);
  info.architecture = std::move(architecture);
  info.backbone = std::move(backbone);
  info.supports_aux = supports_aux;
  info.zoo_files = std::move(zoo_files);
  info.backbone_zoo_files = std::move(backbone_files);
  if (info.architecture == "lraspp") {
    info.class_specific_prefixes = {"classifier.low_classifier", "classifier.high_classifier"};
  } else {
    info.class_specific_prefixes = {"classifier.4", "aux_classifier.4"};
  }
  return info;
}

// The entry named `name`, or null; one lookup for both lists.
template <typename Info>
const Info* FindByName(const std::vector<Info>& list, const std::string& name) {
  for (const Info& info : list) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

template <typename Info>
std::string JoinNames(const std::vector<Info>& list) {
  std::string names;
  for (const Info& info : list) names += (names.empty() ? "" : ", ") + info.name;
  return names;
}

}  // namespace

const std::vector<SemanticModelInfo>& ListSemanticModels() {
  static const std::vector<SemanticModelInfo> models = {
      MakeInfo("lraspp_mobilenet_v3_large", "lraspp", "mobilenet_v3_large", false,
               {"lraspp_mobilenet_v3_large-d234d4ea.pth"}, {"mobilenet_v3_large-8738ca79.pth"}),
      MakeInfo("deeplabv3_mobilenet_v3_large", "deeplabv3", "mobilenet_v3_large", true,
               {"deeplabv3_mobilenet_v3_large-fc3c493d.pth"}, {"mobilenet_v3_large-8738ca79.pth"}),
      MakeInfo("deeplabv3_resnet50", "deeplabv3", "resnet50", true, {"deeplabv3_resnet50_coco-cd0a2569.pth"},
               {"resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth"}),
      MakeInfo("deeplabv3_resnet101", "deeplabv3", "resnet101", true, {"deeplabv3_resnet101_coco-586e9e4e.pth"},
               {"resnet101-63fe2227.pth", "resnet101-cd907fc2.pth"}),
      MakeInfo("fcn_resnet50", "fcn", "resnet50", true, {"fcn_resnet50_coco-1167a1af.pth"},
               {"resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth"}),
      MakeInfo("fcn_resnet101", "fcn", "resnet101", true, {"fcn_resnet101_coco-7ecb50ca.pth"},
               {"resnet101-63fe2227.pth", "resnet101-cd907fc2.pth"}),
  };
  return models;
}

bool IsSemanticModel(const std::string& name) { return FindByName(ListSemanticModels(), name) != nullptr; }

const SemanticModelInfo& FindSemanticModelInfo(const std::string& name) {
  if (const SemanticModelInfo* info = FindByName(ListSemanticModels(), name)) return *info;
  throw UsageError("unknown model '" + name + "'; known models: " + ModelNames(ModelTask::kSemantic));
}

bool IsDetectionModel(const std::string& name) {
  return FindByName(detection::ListDetectionModels(), name) != nullptr;
}

std::string ModelNames(ModelTask task) {
  return task == ModelTask::kSemantic ? JoinNames(ListSemanticModels()) : JoinNames(detection::ListDetectionModels());
}

namespace detection {

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

const DetectionModelInfo& GetDetectionModelInfo(const std::string& name) {
  if (const DetectionModelInfo* info = FindByName(ListDetectionModels(), name)) return *info;
  throw UsageError("unknown detection model '" + name + "' (known: " + ModelNames(ModelTask::kDetection) + ")");
}

}  // namespace detection
}  // namespace segtune
