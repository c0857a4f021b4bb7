// The checks a pipeline config must pass before training. `segtune config check` reports them and
// `segtune train` runs the same function before building anything, so the two cannot disagree: a
// config that check passes does not make train reject it, run out of memory or stop on a NaN loss
// for a reason the config already showed.
//
//   const ConfigValidation v = ValidateForTraining(config);
//   for (const ConfigWarning& e : v.errors) ...   // "<file>:<line>: <field>: <what is wrong and the limit>"
//
// Limits (docs/security.md): batch sizes 1..kMaxBatchSize; every image side, resize and crop size
// 1..kMaxImageSide; batch_size x the training input's pixels <= kMaxBatchPixels; learning rates,
// class weights and the other float settings finite (>= 0 where a negative makes no sense);
// ignore_label 0..255; segmentation num_classes 1..256 (targets are 8-bit), detection 2..kMaxDetectionClasses. Each input_path must
// match regular files that start with a readable TFRecord, and a label map must fit num_classes: an
// id >= num_classes is an error, fewer classes than num_classes a warning (TF trains such a config
// with a larger head; so does segtune). A model that predicts masks needs instance masks in the
// first record with objects of each reader.
#pragma once

#include <vector>

#include "segtune/config/pipeline_config.h"

namespace segtune {

constexpr int kMaxBatchSize = 1024;
constexpr int kMaxImageSide = 8192;
constexpr long long kMaxBatchPixels = 1LL << 28;  // 1024 images of 512x512; ~3 GB of float input.
constexpr int kMaxInputWorkers = 256;
constexpr int kMaxDetectionClasses = 10000;  // LVIS has 1,203.

struct ConfigValidation {
  std::vector<ConfigWarning> errors;    // Training would fail, crash, exhaust memory or train wrongly.
  std::vector<ConfigWarning> warnings;  // Training runs, in a way the config may not mean.
  std::vector<std::string> notes;       // What was checked and found fine (for `config check`).
};

// Validates a loaded config (after model mapping). Reads the label maps and the first record of each
// input file; never throws for a problem of the config itself (it is reported).
ConfigValidation ValidateForTraining(const PipelineConfig& config);

// For train: prints the warnings, then throws UsageError listing every error, each with the file.
void RequireValidForTraining(const PipelineConfig& config);

}  // namespace segtune
