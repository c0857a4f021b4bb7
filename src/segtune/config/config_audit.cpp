#include "segtune/config/config_audit.h"

#include <map>
#include <vector>

namespace segtune {

namespace cfg = segtune::config;

namespace {

// Collects warnings; counts occurrences per path so repeated messages point at their own lines.
class Audit {
 public:
  explicit Audit(const FieldLineLookup& line_of) : line_of_(line_of) {}

  void Warn(const std::string& path, const std::string& message) { WarnAt(path, seen_[path]++, message); }
  // For a path whose n-th occurrence is known (the n-th block of a repeated message).
  void WarnAt(const std::string& path, int occurrence, const std::string& message) {
    warnings_.push_back({line_of_(path, occurrence), path, message});
  }
  // Counts an occurrence of `path` that needs no warning, so later warnings point at their own lines.
  void seen(const std::string& path) { ++seen_[path]; }
  std::vector<ConfigWarning> Take() { return std::move(warnings_); }

 private:
  const FieldLineLookup& line_of_;
  std::map<std::string, int> seen_;
  std::vector<ConfigWarning> warnings_;
};

// Whether the config describes a detection model (TF faster_rcnn, segtune detection, or a detection
// architecture spelled as segmentation), and whether it has masks.
struct ModelKind {
  bool detection = false;
  bool masks = false;
};

ModelKind KindOfModel(const cfg::DetectionModel& model) {
  if (model.has_faster_rcnn()) {
    return {true, model.faster_rcnn().second_stage_box_predictor().mask_rcnn_box_predictor().predict_instance_masks()};
  }
  const std::string name = model.has_detection() ? model.detection().architecture() : model.segmentation().architecture();
  const bool detection = model.has_detection() || name.rfind("fasterrcnn_", 0) == 0 || name.rfind("maskrcnn_", 0) == 0;
  return {detection, name.rfind("maskrcnn_", 0) == 0};
}

void AuditResizer(const cfg::ImageResizer& r, const std::string& prefix, Audit* audit) {
  if (r.has_keep_aspect_ratio_resizer()) {
    const auto& k = r.keep_aspect_ratio_resizer();
    const std::string p = prefix + ".keep_aspect_ratio_resizer.";
    if (k.convert_to_grayscale()) {
      audit->Warn(p + "convert_to_grayscale", "not supported by segtune (models take RGB input); ignored");
    }
    if (k.per_channel_pad_value_size() > 0) {
      audit->Warn(p + "per_channel_pad_value",
                  "ignored: segtune pads images with 0 after normalization and labels with ignore_label");
    }
  }
  if (r.has_fixed_shape_resizer() && r.fixed_shape_resizer().convert_to_grayscale()) {
    audit->Warn(prefix + ".fixed_shape_resizer.convert_to_grayscale",
                "not supported by segtune (models take RGB input); ignored");
  }
}

void AuditModel(const cfg::DetectionModel& model, Audit* audit) {
  if (model.has_segmentation() && model.segmentation().has_image_resizer()) {
    AuditResizer(model.segmentation().image_resizer(), "model.segmentation.image_resizer", audit);
  } else if (model.has_faster_rcnn() && model.faster_rcnn().has_image_resizer()) {
    AuditResizer(model.faster_rcnn().image_resizer(), "model.faster_rcnn.image_resizer", audit);
  } else if (model.has_ssd() && model.ssd().has_image_resizer()) {
    AuditResizer(model.ssd().image_resizer(), "model.ssd.image_resizer", audit);
  }
}

// Augmentation: segtune applies flips, then scale/crop, then color, whatever the listed order; one
// setting per kind (a later step of the same kind replaces an earlier one).
struct StepKind {
  const char* field;  // PreprocessingStep field name.
  int stage;          // 0 flips, 1 scale/crop, 2 color.
  const char* group;  // Steps in one group set the same options.
};

StepKind KindOf(const cfg::PreprocessingStep& s) {
  switch (s.preprocessing_step_case()) {
    case cfg::PreprocessingStep::kRandomHorizontalFlip: return {"random_horizontal_flip", 0, "horizontal flip"};
    case cfg::PreprocessingStep::kRandomVerticalFlip: return {"random_vertical_flip", 0, "vertical flip"};
    case cfg::PreprocessingStep::kRandomImageScale: return {"random_image_scale", 1, "scale"};
    case cfg::PreprocessingStep::kRandomScaleCrop: return {"random_scale_crop", 1, "scale"};
    case cfg::PreprocessingStep::kRandomScaleCropAndPadToSquare:
      return {"random_scale_crop_and_pad_to_square", 1, "scale"};
    case cfg::PreprocessingStep::kRandomAdjustBrightness: return {"random_adjust_brightness", 2, "brightness"};
    case cfg::PreprocessingStep::kRandomAdjustContrast: return {"random_adjust_contrast", 2, "contrast"};
    case cfg::PreprocessingStep::kRandomAdjustSaturation: return {"random_adjust_saturation", 2, "saturation"};
    case cfg::PreprocessingStep::kRandomAdjustHue: return {"random_adjust_hue", 2, "hue"};
    case cfg::PreprocessingStep::kRandomDistortColor: return {"random_distort_color", 2, "brightness"};
    case cfg::PreprocessingStep::kNormalizeImage: return {"normalize_image", -1, "normalize"};
    default: return {"", -1, ""};
  }
}

// Detection training applies random_horizontal_flip (boxes and masks flipped) and nothing else.
void AuditDetectionAugmentation(const cfg::TrainConfig& train, Audit* audit) {
  const std::string base = "train_config.data_augmentation_options.";
  std::map<std::string, int> steps_of_kind;
  for (const auto& step : train.data_augmentation_options()) {
    const StepKind kind = KindOf(step);
    if (kind.field[0] == '\0') continue;
    const int occurrence = steps_of_kind[kind.field]++;
    if (step.has_random_horizontal_flip()) {
      if (step.random_horizontal_flip().keypoint_flip_permutation_size() > 0) {
        audit->Warn(base + kind.field + ".keypoint_flip_permutation", "ignored: segtune detection has no keypoints");
      }
      continue;
    }
    audit->WarnAt(base + kind.field, occurrence,
                  "ignored: detection training applies random_horizontal_flip only (boxes and masks flipped)");
  }
}

// segtune's semantic-only train_config fields, when a detection config sets them.
void AuditDetectionTrainConfig(const cfg::TrainConfig& train, Audit* audit) {
  const std::string p = "train_config.";
  if (train.class_weights_size() > 0) audit->Warn(p + "class_weights", "ignored: detection losses are torchvision's");
  if (train.has_aux_loss_weight()) audit->Warn(p + "aux_loss_weight", "ignored: detection models have no auxiliary head");
  if (train.has_freeze_batchnorm()) {
    audit->Warn(p + "freeze_batchnorm", "ignored: detection backbones use FrozenBatchNorm2d (never updated)");
  }
  if (train.has_batchnorm_momentum()) {
    audit->Warn(p + "batchnorm_momentum", "ignored: detection backbones use FrozenBatchNorm2d (never updated)");
  }
  if (train.has_image_summary_every_n_steps()) {
    audit->Warn(p + "image_summary_every_n_steps", "ignored: detection training writes scalars only");
  }
  if (train.has_freeze_backbone_stages()) {
    audit->Warn(p + "freeze_backbone_stages",
                "counts backbone.body and backbone.fpn as the stages of a detection model; use "
                "model.detection.trainable_backbone_layers to freeze backbone stages");
  }
}

void AuditAugmentation(const cfg::TrainConfig& train, ModelKind model, Audit* audit) {
  if (model.detection) return AuditDetectionAugmentation(train, audit);
  const std::string base = "train_config.data_augmentation_options.";
  std::map<std::string, std::string> group_set_by;
  std::map<std::string, int> steps_of_kind;
  std::string latest_stage_field;
  int latest_stage = -1;
  for (const auto& step : train.data_augmentation_options()) {
    const StepKind kind = KindOf(step);
    if (kind.field[0] == '\0') continue;
    const std::string path = base + kind.field;
    const int occurrence = steps_of_kind[kind.field]++;  // This step's block among the same kind's.
    if (step.has_normalize_image()) {
      audit->WarnAt(path, occurrence, "ignored: segtune always normalizes with the model's mean/std");
      continue;
    }
    if (step.has_random_horizontal_flip() && step.random_horizontal_flip().keypoint_flip_permutation_size() > 0) {
      audit->Warn(path + ".keypoint_flip_permutation", "ignored: segmentation targets have no keypoints");
    }
    if (step.has_random_vertical_flip() && step.random_vertical_flip().keypoint_flip_permutation_size() > 0) {
      audit->Warn(path + ".keypoint_flip_permutation", "ignored: segmentation targets have no keypoints");
    }
    if (step.has_random_distort_color() && step.random_distort_color().color_ordering() != 0) {
      audit->Warn(path + ".color_ordering",
                  "ignored: segtune applies TF's color_ordering 0 ranges in its fixed order "
                  "(brightness, contrast, saturation, hue)");
    }
    // random_distort_color sets all four color options; each random_adjust_* sets one.
    const bool all_color = step.has_random_distort_color();
    const std::vector<std::string> groups =
        all_color ? std::vector<std::string>{"brightness", "contrast", "saturation", "hue"}
                  : std::vector<std::string>{kind.group};
    for (const std::string& group : groups) {
      auto previous = group_set_by.find(group);
      if (previous != group_set_by.end()) {
        audit->WarnAt(path, occurrence, "sets the " + group + " already set by " + previous->second +
                              "; only the last such step applies");
      }
      group_set_by[group] = kind.field;
    }
    if (kind.stage < latest_stage) {
      audit->WarnAt(path, occurrence, "listed after " + latest_stage_field +
                            ", but segtune applies augmentation in the fixed order flips, scale/crop, color");
    } else {
      latest_stage = kind.stage;
      latest_stage_field = kind.field;
    }
  }
}

void AuditInputReader(const cfg::InputReader& r, const std::string& path, bool train, ModelKind kind, Audit* audit) {
  const std::string p = path + ".";
  if (train && r.num_epochs() > 0) {
    audit->Warn(p + "num_epochs", "ignored: segtune trains for train_config.num_steps, cycling the records");
  }
  if (!train && r.has_num_epochs() && r.num_epochs() != 1) {
    audit->Warn(p + "num_epochs", "ignored: evaluation makes exactly one pass over the records");
  }
  if (!train && r.has_shuffle() && r.shuffle()) {
    audit->Warn(p + "shuffle", "ignored: evaluation reads the records in order");
  }
  if (r.has_num_readers()) {
    audit->Warn(p + "num_readers",
                "ignored: segtune reads the files in order and decodes on num_workers threads (default --threads)");
  }
  if (r.has_shuffle_buffer_size()) {
    audit->Warn(p + "shuffle_buffer_size",
                "ignored: segtune shuffles with a full permutation of all records each epoch");
  }
  if (kind.detection) {
    if (r.has_load_instance_masks() && r.load_instance_masks() != kind.masks) {
      audit->Warn(p + "load_instance_masks", kind.masks ? "ignored: Mask R-CNN always reads the instance masks"
                                                        : "ignored: a box-only model does not read instance masks");
    }
  } else if (r.has_load_instance_masks() && !r.load_instance_masks()) {
    audit->Warn(p + "load_instance_masks",
                "ignored: segtune builds targets from image/segmentation/class/encoded, else from the instance "
                "masks, whenever a record has them");
  }
  if (r.has_mask_type() && r.mask_type() != cfg::PNG_MASKS) {
    audit->Warn(p + "mask_type", "ignored: segtune reads instance masks as PNG (image/object/mask bytes) only");
  }
}

void AuditEval(const cfg::TrainEvalPipelineConfig& proto, ModelKind kind, Audit* audit) {
  const auto& eval = proto.eval_config();
  for (int i = 0; i < eval.metrics_set_size(); ++i) {
    if (kind.detection) {
      const std::string& m = eval.metrics_set(i);
      if (m == "coco_detection_metrics" || (m == "coco_mask_metrics" && kind.masks)) {
        audit->seen("eval_config.metrics_set");
        continue;
      }
      audit->Warn("eval_config.metrics_set",
                  "'" + m + "' ignored: segtune evaluates detection with COCO box AP" +
                      std::string(kind.masks ? " and mask AP" : "") + " (coco_detection_metrics" +
                      (kind.masks ? ", coco_mask_metrics)" : ")"));
      continue;
    }
    audit->Warn("eval_config.metrics_set", "'" + eval.metrics_set(i) +
                                               "' ignored: segtune evaluates semantic segmentation (mIoU, pixel "
                                               "accuracy, per-class IoU)");
  }
  if (eval.has_include_metrics_per_category() && !eval.include_metrics_per_category()) {
    audit->Warn("eval_config.include_metrics_per_category",
                kind.detection ? "ignored: segtune always reports per-class AP" : "ignored: segtune always reports per-class IoU");
  }
  for (int i = 0; i < proto.eval_input_reader_size(); ++i) {
    AuditInputReader(proto.eval_input_reader(i), "eval_input_reader", /*train=*/false, kind, audit);
    if (i > 0) {
      audit->WarnAt("eval_input_reader", i, "ignored: segtune evaluates on the first eval_input_reader only (this is #" +
                                           std::to_string(i + 1) + ")");
    }
  }
}

}  // namespace

std::vector<ConfigWarning> AuditUnhonouredFields(const cfg::TrainEvalPipelineConfig& proto,
                                                 const FieldLineLookup& line_of) {
  Audit audit(line_of);
  const ModelKind kind = KindOfModel(proto.model());
  AuditModel(proto.model(), &audit);
  AuditAugmentation(proto.train_config(), kind, &audit);
  if (kind.detection) AuditDetectionTrainConfig(proto.train_config(), &audit);
  if (proto.has_train_input_reader()) {
    AuditInputReader(proto.train_input_reader(), "train_input_reader", /*train=*/true, kind, &audit);
  }
  AuditEval(proto, kind, &audit);
  return audit.Take();
}

}  // namespace segtune
