#include "segtune/config/config_validation.h"

#include <algorithm>
#include <cmath>

#include "segtune/config/detection_config.h"
#include "segtune/config/model_catalog.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/formats/example.h"
#include "segtune/formats/label_map.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

namespace cfg = segtune::config;

namespace {

// Collects problems with the line of the field they concern.
class Validator {
 public:
  explicit Validator(const PipelineConfig& config) : config_(config) {}

  void ReportError(const std::string& field, const std::string& message) {
    out_.errors.push_back({LineOfField(config_, field), field, message});
  }
  void ReportWarning(const std::string& field, const std::string& message) {
    out_.warnings.push_back({LineOfField(config_, field), field, message});
  }
  void Note(const std::string& message) { out_.notes.push_back(message); }

  // An integer setting that must lie in [lo, hi] when it is set.
  void Range(bool has, long long value, const std::string& field, long long lo, long long hi, const std::string& why) {
    if (!has || (value >= lo && value <= hi)) return;
    ReportError(field, std::to_string(value) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi) + " (" + why +
                     ")");
  }
  void Side(bool has, long long value, const std::string& field) {
    Range(has, value, field, 1, kMaxImageSide, "segtune's limit for an image side, resize or crop size");
  }
  // A float setting that must be finite (and >= 0 when `non_negative`).
  void Finite(float value, const std::string& field, bool non_negative = true) {
    if (!std::isfinite(value)) {
      ReportError(field, std::to_string(value) + " is not a finite number");
    } else if (non_negative && value < 0) {
      ReportError(field, std::to_string(value) + " is negative");
    }
  }

  const PipelineConfig& config() const { return config_; }
  size_t error_count() const { return out_.errors.size(); }
  ConfigValidation Take() { return std::move(out_); }

 private:
  const PipelineConfig& config_;
  ConfigValidation out_;
};

// Largest side the training input can have after resizing/cropping, and whether it is known.
struct InputSize {
  long long height = 0, width = 0;
};

void CheckResizer(const cfg::ImageResizer& r, const std::string& prefix, Validator* v, InputSize* size) {
  if (r.has_fixed_shape_resizer()) {
    const auto& f = r.fixed_shape_resizer();
    v->Side(true, f.height(), prefix + ".fixed_shape_resizer.height");
    v->Side(true, f.width(), prefix + ".fixed_shape_resizer.width");
    *size = {f.height(), f.width()};
  }
  if (r.has_keep_aspect_ratio_resizer()) {
    const auto& k = r.keep_aspect_ratio_resizer();
    v->Side(true, k.min_dimension(), prefix + ".keep_aspect_ratio_resizer.min_dimension");
    v->Side(true, k.max_dimension(), prefix + ".keep_aspect_ratio_resizer.max_dimension");
    if (k.min_dimension() > k.max_dimension()) {
      v->ReportError(prefix + ".keep_aspect_ratio_resizer.min_dimension",
               std::to_string(k.min_dimension()) + " is larger than max_dimension " + std::to_string(k.max_dimension()));
    }
    *size = {k.max_dimension(), k.max_dimension()};
  }
}

// Returns num_classes (0 when unusable).
int CheckSemanticModel(const cfg::SemanticModel& seg, Validator* v, InputSize* size) {
  const std::string p = "model.segmentation.";
  try {
    FindSemanticModelInfo(seg.architecture());
  } catch (const Error& e) {
    v->ReportError(p + "architecture", e.what());
  }
  v->Range(true, seg.num_classes(), p + "num_classes", 1, 256,
           "classes including background; segmentation targets are 8-bit");
  v->Range(seg.has_ignore_label(), seg.ignore_label(), p + "ignore_label", 0, 255,
           "a pixel value of the 8-bit target masks");
  if (seg.has_image_resizer()) CheckResizer(seg.image_resizer(), p + "image_resizer", v, size);
  return seg.num_classes() >= 1 && seg.num_classes() <= 256 ? seg.num_classes() : 0;
}

int CheckDetectionModel(const PipelineConfig& config, Validator* v, InputSize* size) {
  const cfg::DetectionArchitecture& d = config.proto.model().detection();
  const std::string p = "model.detection.";
  v->Side(d.has_min_size(), d.min_size(), p + "min_size");
  v->Side(d.has_max_size(), d.max_size(), p + "max_size");
  v->Finite(d.rpn_objectness_loss_weight(), p + "rpn_objectness_loss_weight");
  v->Finite(d.rpn_box_loss_weight(), p + "rpn_box_loss_weight");
  v->Finite(d.classifier_loss_weight(), p + "classifier_loss_weight");
  v->Finite(d.box_loss_weight(), p + "box_loss_weight");
  v->Finite(d.mask_loss_weight(), p + "mask_loss_weight");
  try {
    const DetectionConfig dc = DetectionConfigFromPipeline(config);
    if (dc.options.num_classes > kMaxDetectionClasses) {
      v->Range(true, dc.options.num_classes, p + "num_classes", 2, kMaxDetectionClasses,
               "classes including background; segtune's limit for a detection head");
      return 0;
    }
    const long long side = std::max<long long>(dc.options.min_size, dc.options.max_size);
    *size = {side, side};
    return static_cast<int>(dc.options.num_classes);
  } catch (const Error& e) {
    v->ReportError(p.substr(0, p.size() - 1), e.what());
    return 0;
  }
}

void CheckLearningRate(const cfg::LearningRate& lr, const std::string& p, Validator* v) {
  if (lr.has_constant_learning_rate()) {
    const auto& c = lr.constant_learning_rate();
    v->Finite(c.learning_rate(), p + ".constant_learning_rate.learning_rate");
    v->Finite(c.warmup_learning_rate(), p + ".constant_learning_rate.warmup_learning_rate");
  }
  if (lr.has_exponential_decay_learning_rate()) {
    const auto& e = lr.exponential_decay_learning_rate();
    const std::string q = p + ".exponential_decay_learning_rate.";
    v->Finite(e.initial_learning_rate(), q + "initial_learning_rate");
    v->Finite(e.decay_factor(), q + "decay_factor");
    v->Finite(e.burnin_learning_rate(), q + "burnin_learning_rate");
    v->Finite(e.min_learning_rate(), q + "min_learning_rate");
  }
  if (lr.has_manual_step_learning_rate()) {
    const auto& m = lr.manual_step_learning_rate();
    v->Finite(m.initial_learning_rate(), p + ".manual_step_learning_rate.initial_learning_rate");
    for (const auto& s : m.schedule()) {
      v->Finite(s.learning_rate(), p + ".manual_step_learning_rate.schedule.learning_rate");
    }
  }
  if (lr.has_cosine_decay_learning_rate()) {
    const auto& c = lr.cosine_decay_learning_rate();
    v->Finite(c.learning_rate_base(), p + ".cosine_decay_learning_rate.learning_rate_base");
    v->Finite(c.warmup_learning_rate(), p + ".cosine_decay_learning_rate.warmup_learning_rate");
  }
}

void CheckOptimizer(const cfg::Optimizer& o, Validator* v) {
  const std::string p = "train_config.optimizer.";
  if (o.has_momentum_optimizer()) {
    const auto& m = o.momentum_optimizer();
    CheckLearningRate(m.learning_rate(), p + "momentum_optimizer.learning_rate", v);
    v->Finite(m.momentum_optimizer_value(), p + "momentum_optimizer.momentum_optimizer_value");
    v->Finite(m.weight_decay(), p + "momentum_optimizer.weight_decay");
  } else if (o.has_adam_optimizer()) {
    const auto& a = o.adam_optimizer();
    CheckLearningRate(a.learning_rate(), p + "adam_optimizer.learning_rate", v);
    v->Finite(a.epsilon(), p + "adam_optimizer.epsilon");
    v->Finite(a.weight_decay(), p + "adam_optimizer.weight_decay");
    v->Finite(a.beta1(), p + "adam_optimizer.beta1");
    v->Finite(a.beta2(), p + "adam_optimizer.beta2");
  } else if (o.has_rms_prop_optimizer()) {
    const auto& r = o.rms_prop_optimizer();
    CheckLearningRate(r.learning_rate(), p + "rms_prop_optimizer.learning_rate", v);
    v->Finite(r.momentum_optimizer_value(), p + "rms_prop_optimizer.momentum_optimizer_value");
    v->Finite(r.decay(), p + "rms_prop_optimizer.decay");
    v->Finite(r.epsilon(), p + "rms_prop_optimizer.epsilon");
    v->Finite(r.weight_decay(), p + "rms_prop_optimizer.weight_decay");
  } else {
    v->ReportError("train_config.optimizer", "set momentum_optimizer, adam_optimizer or rms_prop_optimizer");
  }
}

// Augmentation sizes; a crop replaces the resizer's size as the training input size.
void CheckAugmentation(const cfg::TrainConfig& train, Validator* v, InputSize* size) {
  const std::string p = "train_config.data_augmentation_options.";
  for (const auto& step : train.data_augmentation_options()) {
    if (step.has_random_horizontal_flip()) {
      const float prob = step.random_horizontal_flip().probability();
      if (!(prob >= 0 && prob <= 1)) v->ReportError(p + "random_horizontal_flip.probability", "must be from 0 to 1");
    }
    if (step.has_random_vertical_flip()) {
      const float prob = step.random_vertical_flip().probability();
      if (!(prob >= 0 && prob <= 1)) v->ReportError(p + "random_vertical_flip.probability", "must be from 0 to 1");
    }
    if (step.has_random_scale_crop()) {
      const auto& c = step.random_scale_crop();
      v->Side(true, c.crop_height(), p + "random_scale_crop.crop_height");
      v->Side(true, c.crop_width(), p + "random_scale_crop.crop_width");
      v->Finite(c.min_scale_ratio(), p + "random_scale_crop.min_scale_ratio");
      v->Finite(c.max_scale_ratio(), p + "random_scale_crop.max_scale_ratio");
      *size = {c.crop_height(), c.crop_width()};
    }
    if (step.has_random_scale_crop_and_pad_to_square()) {
      const auto& c = step.random_scale_crop_and_pad_to_square();
      v->Side(true, c.output_size(), p + "random_scale_crop_and_pad_to_square.output_size");
      v->Finite(c.scale_min(), p + "random_scale_crop_and_pad_to_square.scale_min");
      v->Finite(c.scale_max(), p + "random_scale_crop_and_pad_to_square.scale_max");
      *size = {c.output_size(), c.output_size()};
    }
    if (step.has_random_image_scale()) {
      v->Finite(step.random_image_scale().min_scale_ratio(), p + "random_image_scale.min_scale_ratio");
      v->Finite(step.random_image_scale().max_scale_ratio(), p + "random_image_scale.max_scale_ratio");
    }
  }
}

void CheckTrainConfig(const cfg::TrainConfig& train, int num_classes, bool detection, Validator* v, InputSize* size) {
  const std::string p = "train_config.";
  v->Range(true, train.batch_size(), p + "batch_size", 1, kMaxBatchSize, "segtune's limit for images per batch");
  CheckOptimizer(train.optimizer(), v);
  v->Finite(train.gradient_clipping_by_norm(), p + "gradient_clipping_by_norm");
  v->Finite(train.backbone_learning_rate_multiplier(), p + "backbone_learning_rate_multiplier");
  v->Finite(train.aux_loss_weight(), p + "aux_loss_weight");
  if (!(train.batchnorm_momentum() >= 0 && train.batchnorm_momentum() <= 1)) {
    v->ReportError(p + "batchnorm_momentum", std::to_string(train.batchnorm_momentum()) + " must be from 0 to 1");
  }
  if (!detection) {
    for (int i = 0; i < train.class_weights_size(); ++i) {
      const float w = train.class_weights(i);
      if (!std::isfinite(w) || w < 0) {
        v->ReportError(p + "class_weights", "value " + std::to_string(i) + " is " + std::to_string(w) +
                                          "; class weights must be finite and >= 0");
        break;
      }
    }
    if (train.class_weights_size() > 0 && num_classes > 0 && train.class_weights_size() != num_classes) {
      v->ReportError(p + "class_weights", "has " + std::to_string(train.class_weights_size()) +
                                        " values; expected num_classes = " + std::to_string(num_classes));
    }
    CheckAugmentation(train, v, size);
  }
  const long long pixels = static_cast<long long>(train.batch_size()) * size->height * size->width;
  if (train.batch_size() <= kMaxBatchSize && size->height <= kMaxImageSide && size->width <= kMaxImageSide &&
      pixels > kMaxBatchPixels) {
    v->ReportError(p + "batch_size", std::to_string(train.batch_size()) + " images of " + std::to_string(size->height) +
                                   "x" + std::to_string(size->width) + " are " + std::to_string(pixels) +
                                   " pixels per batch, above segtune's limit of " + std::to_string(kMaxBatchPixels) +
                                   "; lower batch_size or the input/crop size");
  }
}

// The first record of `file` must read as a TFRecord; returns false when the file has no record.
bool CheckRecordFile(const std::filesystem::path& file, const std::string& field, Validator* v) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    v->ReportError(field, file.string() + " is a directory, not a TFRecord file (use a glob such as '" +
                        (file / "*.record").string() + "')");
    return false;
  }
  if (!std::filesystem::is_regular_file(file, ec)) {
    v->ReportError(field, file.string() + " is not a regular file");
    return false;
  }
  try {
    TFRecordReader reader(file);
    std::string record;
    return reader.Next(&record);
  } catch (const Error& e) {
    v->ReportError(field, std::string(e.what()) + " (expected a TFRecord file, e.g. written by coco2tfrecord)");
    return false;
  }
}

// What happens when num_classes exceeds the label map, as TF's own sample configs do (num_classes: 90
// with a one-class label map): TF trains them with the larger head, and so does segtune.
std::string LargerHeadThanLabelMap(const PipelineConfig& config, int num_classes, int max_id) {
  const int unused = num_classes - (max_id + 1);
  const bool tf_counts = !config.mapped_from.empty();  // A TF model block: num_classes without background.
  std::string head = std::to_string(num_classes) + "-class head";
  head += tf_counts ? " (TF's num_classes " + std::to_string(num_classes - 1) + " + background)" : " (background included)";
  return "the label map's largest id is " + std::to_string(max_id) + ", so the model gets a " + head +
         " of which only classes up to " + std::to_string(max_id) + " appear in the data; the other " +
         std::to_string(unused) + " class" + (unused == 1 ? "" : "es") +
         " get no examples and are only trained to score low (as TF trains this config). For a head sized to the "
         "label map set num_classes to " +
         (tf_counts ? std::to_string(max_id) + " (TF counts without background)"
                       : std::to_string(max_id + 1) + " (background included)");
}

void CheckLabelMap(const cfg::InputReader& reader, const std::string& name, int num_classes, Validator* v) {
  if (reader.label_map_path().empty()) return;
  const std::string field = name + ".label_map_path";
  LabelMap map;
  try {
    map = LoadLabelMap(reader.label_map_path());
  } catch (const Error& e) {
    v->ReportError(field, e.what());
    return;
  }
  int max_id = 0;
  for (const auto& item : map.item()) max_id = std::max(max_id, item.id());
  if (num_classes <= 0) return;
  const int used = max_id + 1;
  if (used > num_classes) {
    v->ReportError(field, "the label map's largest id is " + std::to_string(max_id) + ", so num_classes should be " +
                        std::to_string(used) + " (background included), not " + std::to_string(num_classes));
  } else if (used < num_classes) {
    v->ReportWarning(field, LargerHeadThanLabelMap(v->config(), num_classes, max_id));
  } else {
    v->Note(name + ": label map " + reader.label_map_path() + " fits num_classes " + std::to_string(num_classes));
  }
}

// Mask R-CNN trains and is evaluated on image/object/mask PNGs: the first record with objects must
// have one mask per box (records written without --include-masks have none, and the run would stop
// only when it reaches them, at the first evaluation for an eval reader).
void CheckInstanceMasks(const std::vector<std::filesystem::path>& files, const std::string& name, Validator* v) {
  constexpr int kRecordsToLook = 64;
  int looked = 0;
  for (const auto& file : files) {
    try {
      TFRecordReader reader(file);
      std::string record;
      while (looked < kRecordsToLook && reader.Next(&record)) {
        ++looked;
        const std::string source = file.string() + ": record " + std::to_string(reader.record_index());
        const ObjectDetectionExample ex = ParseObjectDetectionExample(ParseExample(record, source), source);
        if (ex.num_objects() == 0) continue;
        if (ex.instance_masks.size() != ex.num_objects()) {
          v->ReportError(name, source + " has " + std::to_string(ex.instance_masks.size()) +
                                   " image/object/mask PNGs for " + std::to_string(ex.num_objects()) +
                                   " boxes; the model predicts masks and needs one per object "
                                   "(write the records with coco2tfrecord --include-masks)");
        }
        return;
      }
    } catch (const Error& e) {
      v->ReportError(name, e.what());
      return;
    }
    if (looked >= kRecordsToLook) return;
  }
}

void CheckReader(const cfg::InputReader& reader, const std::string& name, int num_classes, bool needs_masks,
                 Validator* v) {
  CheckLabelMap(reader, name, num_classes, v);
  v->Range(true, reader.num_workers(), name + ".num_workers", 0, kMaxInputWorkers, "decode threads");
  v->Range(true, reader.num_prefetch_batches(), name + ".num_prefetch_batches", 0, kMaxBatchSize,
           "batches held in memory ahead of training");
  const std::string field = name + ".tf_record_input_reader.input_path";
  if (reader.tf_record_input_reader().input_path_size() == 0) {
    v->ReportError(name, "no tf_record_input_reader { input_path: ... } given");
    return;
  }
  bool any_record = false;
  const size_t errors_before = v->error_count();
  std::vector<std::filesystem::path> all_files;
  for (const auto& pattern : reader.tf_record_input_reader().input_path()) {
    if (IsUnconfiguredPath(pattern)) {
      v->ReportError(field, "'" + pattern + "' still holds TF's placeholder PATH_TO_BE_CONFIGURED");
      return;
    }
    std::vector<std::filesystem::path> files;
    try {
      files = ExpandInputPaths(pattern);
    } catch (const Error& e) {
      v->ReportError(field, e.what());
      return;
    }
    v->Note(name + ".input_path '" + pattern + "': " + std::to_string(files.size()) + " file(s)");
    for (const auto& file : files) any_record = CheckRecordFile(file, field, v) || any_record;
    all_files.insert(all_files.end(), files.begin(), files.end());
  }
  if (needs_masks && v->error_count() == errors_before) CheckInstanceMasks(all_files, name, v);
  if (!any_record && v->error_count() == errors_before) {
    v->ReportError(field, "the files hold no record (nothing to " + std::string(name == "train_input_reader" ? "train" : "evaluate") +
                        " on)");
  }
}

}  // namespace

ConfigValidation ValidateForTraining(const PipelineConfig& config) {
  Validator v(config);
  const bool detection = IsDetectionConfig(config);
  InputSize size;
  const int num_classes =
      detection ? CheckDetectionModel(config, &v, &size) : CheckSemanticModel(config.proto.model().segmentation(), &v, &size);
  CheckTrainConfig(config.proto.train_config(), num_classes, detection, &v, &size);
  const std::string& architecture = config.proto.model().detection().architecture();
  const bool needs_masks = detection && IsDetectionModel(architecture) &&
                           detection::GetDetectionModelInfo(architecture).has_masks;
  v.Range(true, config.proto.eval_config().batch_size(), "eval_config.batch_size", 1, kMaxBatchSize,
          "segtune's limit for images per batch");
  if (config.proto.has_train_input_reader()) {
    CheckReader(config.proto.train_input_reader(), "train_input_reader", num_classes, needs_masks, &v);
  } else {
    v.ReportError("train_input_reader", "missing: training needs tf_record_input_reader { input_path: ... }");
  }
  for (const auto& reader : config.proto.eval_input_reader()) {
    CheckReader(reader, "eval_input_reader", num_classes, needs_masks, &v);
  }
  return v.Take();
}

void RequireValidForTraining(const PipelineConfig& config) {
  const ConfigValidation v = ValidateForTraining(config);
  for (const auto& w : v.warnings) Warn(w.ToString(config.path));
  if (v.errors.empty()) return;
  std::string message = config.path.string() + ": the config cannot be trained (`segtune config check` lists the same):";
  for (const auto& e : v.errors) message += "\n  " + e.ToString(config.path);
  throw UsageError(message);
}

}  // namespace segtune
