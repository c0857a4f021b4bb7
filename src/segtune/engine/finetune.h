// Starting a training run from pretrained weights (train_config.fine_tune_checkpoint).
#pragma once

#include <filesystem>
#include <string>

#include "segtune/models/load_state.h"
#include "segtune/models/semantic_model.h"

namespace segtune {

// Loads `path` (.pth, .safetensors or a segtune checkpoint) into `model` with transfer surgery:
// tensors whose name and shape match are copied, class-specific layers of another class count keep
// their fresh initialisation. checkpoint_type "classification" (or a file whose keys look like an
// ImageNet classifier of the model's backbone) loads only the backbone, renamed from torchvision's
// classification names. Throws FormatError if nothing at all could be loaded (wrong model family).
LoadReport LoadFineTuneCheckpoint(SemanticModelImpl& model, const std::filesystem::path& path,
                                  const std::string& checkpoint_type);

// The same for a detection model built as `model_name` (models/detection): LoadDetectionWeights with
// transfer surgery (the box/mask predictors of another class count are re-initialised), not strict.
// checkpoint_type "classification" (or a file without any "backbone." key) is taken as torchvision's
// ImageNet classifier of the backbone and loaded into backbone.body.*. Throws FormatError if nothing
// could be loaded.
LoadReport LoadDetectionFineTuneCheckpoint(torch::nn::Module& model, const std::string& model_name,
                                           const std::filesystem::path& path, const std::string& checkpoint_type);

}  // namespace segtune
