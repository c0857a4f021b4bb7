#include "segtune/config/config_check.h"

#include <exception>

#include "segtune/config/config_validation.h"
#include "segtune/config/detection_config.h"
#include "segtune/config/model_catalog.h"

namespace segtune {

namespace {

// The model a config describes: its name and num_classes. nullopt when the model is unusable
// (ValidateForTraining reports why).
std::optional<CheckedModel> CheckModel(const PipelineConfig& config, ConfigCheckReport* r) {
  const std::string mapped = config.mapped_from.empty() ? "" : " (mapped from " + config.mapped_from + ")";
  try {
    if (IsDetectionConfig(config)) {
      const DetectionConfig d = DetectionConfigFromPipeline(config);
      r->notes.push_back("detection model " + d.model_name + mapped + ", min_size " +
                         std::to_string(d.options.min_size) + ", max_size " + std::to_string(d.options.max_size));
      return CheckedModel{d.model_name, static_cast<int>(d.options.num_classes)};
    }
    const auto& seg = config.proto.model().segmentation();
    FindSemanticModelInfo(seg.architecture());
    r->notes.push_back("model " + seg.architecture() + mapped);
    return CheckedModel{seg.architecture(), seg.num_classes()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<CheckedModel> CheckPipelineConfigSettings(const PipelineConfig& config, ConfigCheckReport* r) {
  for (const auto& w : config.warnings) r->warnings.push_back(w.ToString(config.path));
  const ConfigValidation validation = ValidateForTraining(config);
  for (const auto& e : validation.errors) r->errors.push_back(e.ToString(config.path));
  for (const auto& w : validation.warnings) r->warnings.push_back(w.ToString(config.path));
  r->notes.insert(r->notes.end(), validation.notes.begin(), validation.notes.end());
  const std::optional<CheckedModel> model = CheckModel(config, r);
  if (!model) return std::nullopt;
  for (const auto& e : validation.errors) {
    if (e.field.rfind("model", 0) == 0) return std::nullopt;
  }
  if (config.proto.train_config().num_steps() == 0) {
    r->warnings.push_back("train_config.num_steps is 0: pass --num-steps to segtune train");
  }
  return model;
}

}  // namespace segtune
