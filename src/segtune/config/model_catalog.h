// The models segtune can build, as plain facts: one list of names for the whole program. The
// pipeline config (parse, check, init) reads it without LibTorch; the models layer builds from it
// (models/semantic_registry.h, models/detection/detection_registry.h) and its tests check that
// every entry builds.
//
//   if (IsDetectionModel(name)) ... detection::GetDetectionModelInfo(name).has_masks;
//   FindSemanticModelInfo(name).mean;                     // Throws UsageError naming the known models.
//   ModelNames(ModelTask::kSemantic);                     // "lraspp_mobilenet_v3_large, ..." for messages.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace segtune {

enum class ModelTask { kSemantic, kDetection };

// What a caller needs to know about a semantic segmentation model without building it.
struct SemanticModelInfo {
  std::string name;          // Registry name, e.g. "lraspp_mobilenet_v3_large".
  std::string architecture;  // "lraspp", "deeplabv3" or "fcn".
  std::string backbone;      // "mobilenet_v3_large", "resnet50" or "resnet101".
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // Input normalization (RGB, 0..1 scale).
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  bool supports_aux = false;          // Can be built with an auxiliary FCN head.
  int recommended_input_size = 520;   // torchvision's SemanticSegmentation(resize_size=520).
  // torchvision zoo files that fit the whole model (21 COCO-with-VOC-labels classes, aux included).
  std::vector<std::string> zoo_files;
  // ImageNet classification checkpoints for the backbone alone (keys remapped by transfer_keys.h).
  std::vector<std::string> backbone_zoo_files;
  // Prefixes of the class-specific layers (re-initialised when num_classes changes).
  std::vector<std::string> class_specific_prefixes;
};

// Every semantic model in registry order: lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large,
// deeplabv3_resnet50, deeplabv3_resnet101, fcn_resnet50, fcn_resnet101.
const std::vector<SemanticModelInfo>& ListSemanticModels();

bool IsSemanticModel(const std::string& name);

// The info of `name`. Throws UsageError naming the known models if `name` is unknown.
const SemanticModelInfo& FindSemanticModelInfo(const std::string& name);

// True for a name of ListDetectionModels().
bool IsDetectionModel(const std::string& name);

// The names of every model of `task`, in list order, joined by ", " (for messages).
std::string ModelNames(ModelTask task);

namespace detection {

struct DetectionModelInfo {
  std::string name;      // "fasterrcnn_resnet50_fpn", ...
  std::string backbone;  // "resnet50" or "mobilenet_v3_large".
  bool has_masks = false;
  // The class-count-dependent layers replaced by transfer surgery ("roi_heads.box_predictor",
  // plus "roi_heads.mask_predictor.mask_fcn_logits" for Mask R-CNN).
  std::vector<std::string> class_specific_prefixes;
  int64_t default_num_classes = 91;  // COCO's 90 category ids + background, as the zoo checkpoints.
  std::string zoo_file;              // torchvision's COCO checkpoint file name (download.pytorch.org/models/).
  std::string description;           // One line.
};

// Every detection model (torchvision's Faster R-CNN / Mask R-CNN zoo), in a fixed order.
const std::vector<DetectionModelInfo>& ListDetectionModels();

using segtune::IsDetectionModel;

// Throws UsageError naming the known models for an unknown name.
const DetectionModelInfo& GetDetectionModelInfo(const std::string& name);

}  // namespace detection
}  // namespace segtune
