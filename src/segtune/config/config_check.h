// `segtune config check` without the weights: everything it reports about a loaded pipeline config
// that needs no LibTorch. The fine-tune checkpoint's fit is tried above, by
// engine/config_check.h (CheckPipelineConfig), which runs this first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "segtune/config/pipeline_config.h"

namespace segtune {

struct ConfigCheckReport {
  std::vector<std::string> errors;    // The run would fail or be wrong.
  std::vector<std::string> warnings;  // Ignored fields, mappings, suspicious settings.
  std::vector<std::string> notes;     // What was checked and found fine.
  bool ok() const { return errors.empty(); }
};

// The model a checked config describes.
struct CheckedModel {
  std::string name;  // A config/model_catalog.h name.
  int num_classes = 0;
};

// Appends to *report, in this order: the load warnings; the errors, warnings and notes of
// ValidateForTraining (config/config_validation.h: the checks `segtune train` runs too, so check and
// train cannot disagree); the model; a warning for num_steps 0. Returns the model when its
// checkpoint can be tried (the model is known and no model setting is in error), else nullopt:
// building a model from a bad setting could fail or be huge.
std::optional<CheckedModel> CheckPipelineConfigSettings(const PipelineConfig& config, ConfigCheckReport* report);

}  // namespace segtune
