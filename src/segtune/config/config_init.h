// `segtune config init`: a commented, ready-to-run pipeline config for a model of
// config/model_catalog.h and a label map (num_classes = the largest id + 1).
#pragma once

#include <filesystem>
#include <string>

namespace segtune {

struct ConfigInitOptions {
  std::string model = "lraspp_mobilenet_v3_large";  // A segmentation or detection model (`segtune models`).
  std::filesystem::path label_map;                  // Required: num_classes = max id + 1.
  std::string train;                                // TFRecord path/glob/shards for training.
  std::string val;                                  // ... for evaluation (optional).
  std::filesystem::path checkpoint;                 // fine_tune_checkpoint (optional).
  std::filesystem::path output;                     // Where the config goes.
  int batch_size = 8;
  int num_steps = 2000;
  // Segmentation: the training crop and fixed_shape_resizer size (0: 512). Detection: min_size =
  // max_size = input_size, so images fit in an input_size square (0: torchvision's sizes).
  int input_size = 0;
  // Replace an existing output that is a pipeline config (it parses and names a model); anything else
  // is never replaced (core/output_guard.h).
  bool overwrite = false;
};

// The config text (paths written relative to the output's directory when below it). Throws UsageError
// for an unknown model, FormatError/IoError for an unreadable label map.
std::string MakePipelineConfigText(const ConfigInitOptions& options);
// Checks options.output (see overwrite), then writes MakePipelineConfigText atomically to it.
void WritePipelineConfig(const ConfigInitOptions& options);

}  // namespace segtune
