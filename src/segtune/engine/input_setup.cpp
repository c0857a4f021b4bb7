#include "segtune/engine/input_setup.h"

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/formats/label_map.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

namespace {

int Interpolation(segtune::config::ResizeType type) {
  switch (type) {
    case segtune::config::NEAREST_NEIGHBOR: return cv::INTER_NEAREST;
    case segtune::config::BICUBIC: return cv::INTER_CUBIC;
    case segtune::config::AREA: return cv::INTER_AREA;
    default: return cv::INTER_LINEAR;
  }
}

ResizePolicy MakeResizePolicy(const segtune::config::ImageResizer& r) {
  ResizePolicy p;
  if (r.has_keep_aspect_ratio_resizer()) {
    const auto& k = r.keep_aspect_ratio_resizer();
    p.kind = ResizePolicy::Kind::kKeepAspectRatio;
    p.min_dimension = k.min_dimension();
    p.max_dimension = k.max_dimension();
    p.pad_to_max_dimension = k.pad_to_max_dimension();
    p.interpolation = Interpolation(k.resize_method());
  } else if (r.has_fixed_shape_resizer()) {
    const auto& f = r.fixed_shape_resizer();
    p.kind = ResizePolicy::Kind::kFixedShape;
    p.height = f.height();
    p.width = f.width();
    p.interpolation = Interpolation(f.resize_method());
  }
  return p;
}

}  // namespace

AugmentOptions MakeAugmentOptions(const segtune::config::TrainConfig& train, std::vector<std::string>* ignored) {
  AugmentOptions a;
  for (const auto& step : train.data_augmentation_options()) {
    if (step.has_random_horizontal_flip()) a.horizontal_flip_probability = step.random_horizontal_flip().probability();
    if (step.has_random_vertical_flip()) a.vertical_flip_probability = step.random_vertical_flip().probability();
    if (step.has_random_image_scale()) {
      a.min_scale = step.random_image_scale().min_scale_ratio();
      a.max_scale = step.random_image_scale().max_scale_ratio();
    }
    if (step.has_random_scale_crop()) {
      const auto& c = step.random_scale_crop();
      a.min_scale = c.min_scale_ratio();
      a.max_scale = c.max_scale_ratio();
      a.crop_height = c.crop_height();
      a.crop_width = c.crop_width();
    }
    if (step.has_random_scale_crop_and_pad_to_square()) {
      const auto& c = step.random_scale_crop_and_pad_to_square();
      a.min_scale = c.scale_min();
      a.max_scale = c.scale_max();
      a.crop_height = a.crop_width = c.output_size();
    }
    if (step.has_random_adjust_brightness()) a.brightness_delta = step.random_adjust_brightness().max_delta();
    if (step.has_random_adjust_contrast()) {
      a.contrast_min = step.random_adjust_contrast().min_delta();
      a.contrast_max = step.random_adjust_contrast().max_delta();
    }
    if (step.has_random_adjust_saturation()) {
      a.saturation_min = step.random_adjust_saturation().min_delta();
      a.saturation_max = step.random_adjust_saturation().max_delta();
    }
    if (step.has_random_adjust_hue()) a.hue_delta = step.random_adjust_hue().max_delta();
    if (step.has_random_distort_color()) {  // TF's color_ordering 0 ranges.
      a.brightness_delta = 32.f / 255.f;
      a.saturation_min = 0.5f, a.saturation_max = 1.5f;
      a.hue_delta = 0.2f;
      a.contrast_min = 0.5f, a.contrast_max = 1.5f;
    }
    if (step.has_normalize_image() && ignored != nullptr) {
      ignored->push_back("normalize_image (segtune always normalizes with the model's mean/std)");
    }
  }
  return a;
}

std::vector<std::string> ClassNames(const segtune::config::InputReader& reader, int num_classes) {
  if (reader.label_map_path().empty()) return {};
  return LabelMapClassNames(LoadLabelMap(reader.label_map_path()), std::max(num_classes, 1));
}

std::vector<std::filesystem::path> ReaderFiles(const segtune::config::InputReader& reader, bool train) {
  std::vector<std::filesystem::path> files;
  for (const auto& pattern : reader.tf_record_input_reader().input_path()) {
    if (pattern.find("PATH_TO_BE_CONFIGURED") != std::string::npos) {
      throw UsageError("input_path '" + pattern + "' still holds TF's placeholder PATH_TO_BE_CONFIGURED");
    }
    for (auto& p : ExpandInputPaths(pattern)) files.push_back(std::move(p));
  }
  if (files.empty()) {
    throw UsageError(std::string(train ? "train_input_reader" : "eval_input_reader") +
                     ": no tf_record_input_reader { input_path: ... } given");
  }
  return files;
}

DetectionDatasetOptions MakeDetectionDatasetOptions(const segtune::config::TrainEvalPipelineConfig& config,
                                                    const segtune::config::InputReader& reader, bool load_masks,
                                                    bool train) {
  DetectionDatasetOptions o;
  o.files = ReaderFiles(reader, train);
  o.num_classes = config.model().detection().num_classes();
  if (!reader.label_map_path().empty()) o.class_ids = LabelMapNameToId(LoadLabelMap(reader.label_map_path()));
  o.load_masks = load_masks;
  o.train = train;
  if (train) o.horizontal_flip_probability = MakeAugmentOptions(config.train_config(), nullptr).horizontal_flip_probability;
  o.shuffle = reader.shuffle();
  o.seed = config.train_config().seed();
  o.batch_size = train ? std::max<uint32_t>(1, config.train_config().batch_size())
                       : std::max<uint32_t>(1, config.eval_config().batch_size());
  o.sample_1_of_n = std::max<uint32_t>(1, reader.sample_1_of_n_examples());
  if (!train) o.max_examples = config.eval_config().num_examples();
  return o;
}

SemanticDatasetOptions MakeDatasetOptions(const segtune::config::TrainEvalPipelineConfig& config,
                                  const segtune::config::InputReader& reader, const SemanticModelInfo& model,
                                  bool train) {
  const auto& seg = config.model().segmentation();
  SemanticDatasetOptions o;
  o.files = ReaderFiles(reader, train);
  o.num_classes = seg.num_classes();
  o.ignore_label = seg.ignore_label();
  if (!reader.label_map_path().empty()) o.class_ids = LabelMapNameToId(LoadLabelMap(reader.label_map_path()));
  o.resize = MakeResizePolicy(seg.image_resizer());
  o.train = train;
  if (train) o.augment = MakeAugmentOptions(config.train_config(), nullptr);
  o.shuffle = reader.shuffle();
  o.seed = config.train_config().seed();
  o.batch_size = train ? std::max<uint32_t>(1, config.train_config().batch_size())
                       : std::max<uint32_t>(1, config.eval_config().batch_size());
  o.mean = model.mean;
  o.std = model.std;
  o.sample_1_of_n = std::max<uint32_t>(1, reader.sample_1_of_n_examples());
  if (!train) o.max_examples = config.eval_config().num_examples();
  return o;
}

}  // namespace segtune
