#include "segtune/config/config_init.h"

#include <algorithm>

#include "segtune/config/detection_options.h"
#include "segtune/config/model_catalog.h"
#include "segtune/config/pipeline_config.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/label_map.h"

namespace segtune {

namespace {

int MaxLabelId(const LabelMap& map) {
  int max_id = 0;
  for (const auto& item : map.item()) max_id = std::max(max_id, item.id());
  return max_id;
}

// `p` relative to `base` when it lies below it (the config then moves with its data), else absolute.
std::string PathForConfig(const std::string& p, const std::filesystem::path& base) {
  if (p.empty()) return p;
  const std::filesystem::path abs = std::filesystem::absolute(p).lexically_normal();
  const std::filesystem::path rel = abs.lexically_relative(std::filesystem::absolute(base).lexically_normal());
  if (!rel.empty() && rel.begin()->string() != "..") return rel.string();
  return abs.string();
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

// The model block of a segmentation model.
std::string SemanticModelBlock(const SemanticModelInfo& info, int num_classes, int input_size) {
  std::string t = "model {\n  segmentation {\n";
  t += "    # `segtune models` lists the architectures.\n";
  t += "    architecture: " + Quote(info.name) + "\n";
  t += "    # Classes including background (0): the label map's largest id (" + std::to_string(num_classes - 1) +
       ") + 1.\n";
  t += "    num_classes: " + std::to_string(num_classes) + "\n";
  if (info.supports_aux) t += "    # An auxiliary FCN head adds a loss (weight train_config.aux_loss_weight).\n    aux_loss: false\n";
  t += "    # Ground-truth pixels with this value are ignored by the loss and by evaluation.\n    ignore_label: 255\n";
  t += "    image_resizer {\n      fixed_shape_resizer { height: " + std::to_string(input_size) +
       " width: " + std::to_string(input_size) + " }\n    }\n  }\n}\n\n";
  return t;
}

// The model block of a detection model, with torchvision's sizes and thresholds written out.
std::string DetectionModelBlock(const std::string& name, int num_classes, bool fine_tuning, int input_size) {
  detection::DetectionModelOptions d = detection::DefaultDetectionOptions(name);
  if (input_size > 0) d.min_size = d.max_size = input_size;
  std::string t = "model {\n  detection {\n";
  t += "    # `segtune models` lists the architectures (torchvision's Faster R-CNN / Mask R-CNN).\n";
  t += "    architecture: " + Quote(name) + "\n";
  t += "    # Classes including background (0): the label map's largest id (" + std::to_string(num_classes - 1) +
       ") + 1.\n";
  t += "    num_classes: " + std::to_string(num_classes) + "\n";
  t += "    # Images are resized so the short side is min_size unless the long side would exceed max_size.\n";
  t += "    min_size: " + std::to_string(d.min_size) + "\n    max_size: " + std::to_string(d.max_size) + "\n";
  t += "    # Detections kept per image after per-class NMS (torchvision's box_detections_per_img).\n";
  t += "    box_score_thresh: " + std::to_string(d.box.score_thresh).substr(0, 4) +
       "\n    box_nms_thresh: " + std::to_string(d.box.nms_thresh).substr(0, 3) +
       "\n    box_detections_per_img: " + std::to_string(d.box.detections_per_img) + "\n";
  t += "    # Backbone stages trained, counted from the last (0-5 ResNet, 0-6 MobileNetV3); torchvision's\n"
       "    # default is 3 from a checkpoint, all of them from scratch.\n";
  t += std::string(fine_tuning ? "" : "    # ") + "trainable_backbone_layers: 3\n  }\n}\n\n";
  return t;
}

// train_config for a detection model: torchvision's reference recipe (SGD 0.9, weight decay 1e-4,
// linear warmup), flips only.
std::string DetectionTrainConfig(const ConfigInitOptions& o, const std::filesystem::path& base) {
  std::string t = "train_config {\n  batch_size: " + std::to_string(o.batch_size) +
                  "\n  num_steps: " + std::to_string(o.num_steps) + "\n  seed: 42\n";
  t += "  optimizer {\n    momentum_optimizer {\n      learning_rate {\n        cosine_decay_learning_rate {\n";
  t += "          learning_rate_base: 0.01\n          total_steps: " + std::to_string(o.num_steps) +
       "\n          warmup_learning_rate: 0.00001\n          warmup_steps: " + std::to_string(std::max(1, o.num_steps / 20)) +
       "\n        }\n      }\n      momentum_optimizer_value: 0.9\n      weight_decay: 0.0001\n    }\n  }\n";
  if (!o.checkpoint.empty()) {
    t += "  # Pretrained weights (a torchvision COCO .pth, .safetensors or a segtune checkpoint). The box (and\n"
         "  # mask) predictors are re-initialised for num_classes; \"classification\" loads an ImageNet backbone.\n";
    t += "  fine_tune_checkpoint: " + Quote(PathForConfig(o.checkpoint.string(), base)) + "\n";
    t += "  fine_tune_checkpoint_type: \"\"\n";
  }
  t += "  gradient_clipping_by_norm: 10.0\n";
  t += "  # Detection training applies random_horizontal_flip only (boxes and masks flipped).\n";
  t += "  data_augmentation_options { random_horizontal_flip { } }\n";
  t += "  checkpoint_every_n_steps: " + std::to_string(std::max(1, o.num_steps / 10)) +
       "\n  keep_checkpoint_max: 3\n  log_every_n_steps: 10\n}\n\n";
  return t;
}

}  // namespace

std::string MakePipelineConfigText(const ConfigInitOptions& o) {
  const bool detection = IsDetectionModel(o.model);
  if (!detection && !IsSemanticModel(o.model)) {
    throw UsageError("config init: unknown model '" + o.model + "'; known models: " + ModelNames(ModelTask::kSemantic) +
                     ", " + ModelNames(ModelTask::kDetection) + " (see `segtune models`)");
  }
  const SemanticModelInfo* info = detection ? nullptr : &FindSemanticModelInfo(o.model);
  const int input_size = o.input_size > 0 ? o.input_size : 512;  // Segmentation's crop / resize.
  if (o.label_map.empty()) throw UsageError("config init: --label-map is required (it sets num_classes)");
  if (o.train.empty()) throw UsageError("config init: --train is required (the training TFRecords)");
  const LabelMap map = LoadLabelMap(o.label_map);
  const int num_classes = MaxLabelId(map) + 1;
  const std::filesystem::path base = o.output.has_parent_path() ? o.output.parent_path() : ".";
  const std::string label_map = PathForConfig(o.label_map.string(), base);
  std::string t;
  t += "# segtune pipeline config (protobuf text format, TF Object Detection API layout).\n";
  t += "# Written by `segtune config init`; check it with `segtune config check " + o.output.filename().string() +
       "`,\n# train with `segtune train --pipeline-config " + o.output.filename().string() +
       " --train-dir model/train`.\n# Relative paths are relative to this file's directory. See docs/training.md.\n\n";
  t += detection ? DetectionModelBlock(o.model, num_classes, !o.checkpoint.empty(), o.input_size)
                 : SemanticModelBlock(*info, num_classes, input_size);
  if (detection) {
    t += DetectionTrainConfig(o, base);
  } else {
  t += "train_config {\n  batch_size: " + std::to_string(o.batch_size) + "\n  num_steps: " + std::to_string(o.num_steps) +
       "\n  seed: 42\n";
  // AdamW converges on short runs both from scratch and from a checkpoint; momentum_optimizer
  // (SGD) is the TF-style alternative.
  t += "  optimizer {\n    adam_optimizer {\n      learning_rate {\n        cosine_decay_learning_rate {\n";
  t += "          learning_rate_base: 0.003\n          total_steps: " + std::to_string(o.num_steps) +
       "\n          warmup_learning_rate: 0.0003\n          warmup_steps: " + std::to_string(std::max(1, o.num_steps / 20)) +
       "\n        }\n      }\n      weight_decay: 0.0001\n    }\n  }\n";
  if (!o.checkpoint.empty()) {
    t += "  # Pretrained weights (.pth, .safetensors or a segtune checkpoint). Layers whose shape depends on\n"
         "  # num_classes are re-initialised; \"classification\" loads an ImageNet backbone only.\n";
    t += "  fine_tune_checkpoint: " + Quote(PathForConfig(o.checkpoint.string(), base)) + "\n";
    t += "  fine_tune_checkpoint_type: \"\"\n";
  }
  if (!o.checkpoint.empty()) {
    t += "  # The pretrained backbone learns 10x slower than the freshly initialised head.\n"
         "  backbone_learning_rate_multiplier: 0.1\n";
  }
  t += "  # BatchNorm running statistics follow the data at PyTorch's default rate (torchvision's\n"
       "  # MobileNetV3 uses 0.01, too slow for short runs).\n  batchnorm_momentum: 0.1\n";
  t += "  # Freeze parameters by regex on their names, e.g. \"backbone\\\\.[0-5]\\\\.\"; or freeze_backbone: true.\n";
  t += "  gradient_clipping_by_norm: 10.0\n";
  t += "  data_augmentation_options { random_horizontal_flip { } }\n";
  t += "  data_augmentation_options {\n    random_scale_crop { min_scale_ratio: 0.5 max_scale_ratio: 2.0 crop_height: " +
       std::to_string(input_size) + " crop_width: " + std::to_string(input_size) + " }\n  }\n";
  t += "  data_augmentation_options { random_adjust_brightness { max_delta: 0.1 } }\n";
  t += "  checkpoint_every_n_steps: " + std::to_string(std::max(1, o.num_steps / 10)) +
       "\n  keep_checkpoint_max: 3\n  log_every_n_steps: 10\n  image_summary_every_n_steps: " +
       std::to_string(std::max(1, o.num_steps / 10)) + "\n}\n\n";
  }
  t += "train_input_reader {\n  label_map_path: " + Quote(label_map) + "\n  tf_record_input_reader {\n    input_path: " +
       Quote(PathForConfig(o.train, base)) + "\n  }\n}\n\n";
  t += "eval_config {\n  batch_size: 1\n";
  if (detection) {
    t += "  # COCO box AP (and mask AP for Mask R-CNN) on eval_input_reader.\n  metrics_set: \"coco_detection_metrics\"\n";
    if (detection::GetDetectionModelInfo(o.model).has_masks) t += "  metrics_set: \"coco_mask_metrics\"\n";
  } else {
    t += "  num_visualizations: 10\n";
  }
  t += "  eval_every_n_steps: " + std::to_string(std::max(1, o.num_steps / 10)) + "\n}\n";
  if (!o.val.empty()) {
    t += "\neval_input_reader {\n  label_map_path: " + Quote(label_map) +
         "\n  shuffle: false\n  num_epochs: 1\n  tf_record_input_reader {\n    input_path: " +
         Quote(PathForConfig(o.val, base)) + "\n  }\n}\n";
  }
  return t;
}

namespace {

// What `config init --overwrite` may replace. A config is small text; a large file is something else
// and is not read.
bool LooksLikePipelineConfigFile(const std::filesystem::path& path) {
  const std::optional<std::string> text = ReadSmallFile(path, 16 << 20);
  if (!text) return false;
  try {
    ParsePipelineConfig(*text, path);  // Throws unless it parses and names a usable model.
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void WritePipelineConfig(const ConfigInitOptions& options) {
  if (options.output.empty()) throw UsageError("config init: -o/--output is required");
  CheckOutputFile(options.output, options.overwrite, {"config init", "--output", "pipeline config", {}},
                  LooksLikePipelineConfigFile);
  WriteFileAtomic(options.output, MakePipelineConfigText(options));
}

}  // namespace segtune
