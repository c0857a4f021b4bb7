// `segtune config check` (validate a pipeline config before a long run): the checks of
// config/config_check.h, then whether the fine-tune checkpoint loads into the model, which needs
// LibTorch and so lives here.
#pragma once

#include <filesystem>

#include "segtune/config/config_check.h"

namespace segtune {

// Loads the config (syntax errors throw FormatError) and checks: model name and num_classes; label map
// readable and num_classes == max id + 1; every input_path matches files; the fine-tune checkpoint
// loads and how many of its tensors fit the model by name and shape; optimizer and num_steps set.
ConfigCheckReport CheckPipelineConfig(const std::filesystem::path& path);

}  // namespace segtune
