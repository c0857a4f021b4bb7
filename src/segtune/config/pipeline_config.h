// Loading a pipeline config (proto/pipeline.proto, protobuf text format): segtune's own configs and
// real TF Object Detection API pipeline configs.
//
//   PipelineConfig config = LoadPipelineConfig("model/pipeline.config");
//   for (const ConfigWarning& w : config.warnings) Warn(w.ToString(config.path));
//   config.proto.model().segmentation().architecture();   // Set after loading, unless the model
//   config.proto.model().detection().architecture();      // is a detection one (config/detection_config.h).
//
// What loading does:
//  - Parses liberally: fields segtune does not know (TF fields such as `use_bfloat16` or a whole
//    `first_stage_anchor_generator { ... }`) are skipped and reported as warnings with their line and
//    dotted path ("train_config.use_bfloat16"), never silently dropped and never an error. Fields the
//    schema declares for TF compatibility but segtune does not apply (num_readers, shuffle_buffer_size,
//    metrics_set, ...) are warned about the same way (config/config_audit.h).
//  - Maps TF's `faster_rcnn { ... }` to the nearest torchvision detection model (`detection { ... }`,
//    config/detection_config.h: MapFasterRcnn) and TF's `ssd { ... }` to the nearest segtune segmentation
//    model with the same backbone family, adding background to num_classes, and says so in warnings; a
//    backbone segtune has no counterpart for is rejected with a message naming what to write instead.
//    `segmentation { architecture: "<detection model>" }` becomes `detection { ... }` too.
//  - Resolves relative paths (fine_tune_checkpoint, label_map_path, input_path) against the config
//    file's directory. Globs and shard patterns stay patterns (see ExpandInputPaths).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline.pb.h"

namespace segtune {

struct ConfigWarning {
  int line = 0;          // 1-based line in the config file; 0 when not tied to one line.
  std::string field;     // Dotted path of the field concerned ("train_config.use_bfloat16"), may be empty.
  std::string message;   // What segtune does about it.
  // "<file>:<line>: <field>: <message>".
  std::string ToString(const std::filesystem::path& file) const;
};

struct PipelineConfig {
  std::filesystem::path path;                      // The file it was loaded from ("" for text).
  std::string text;                                // The text as read (kept for checkpoint copies).
  segtune::config::TrainEvalPipelineConfig proto;  // model is `segmentation` or `detection` after loading.
  std::vector<ConfigWarning> warnings;
  std::string mapped_from;  // e.g. "faster_rcnn (feature_extractor.type faster_rcnn_resnet50_keras)", or "".
};

// Parses `text`; `path` names the file in messages and anchors relative paths (its directory).
// Throws FormatError("<path>: line L:C: <protobuf's message>") on a syntax error or a value of the
// wrong type, and FormatError for a config with no usable model (see MapModel).
PipelineConfig ParsePipelineConfig(const std::string& text, const std::filesystem::path& path);

// Reads and parses a file. Throws IoError if it cannot be read, FormatError as above.
PipelineConfig LoadPipelineConfig(const std::filesystem::path& path);

// The segtune model for a TF detection feature extractor type ("faster_rcnn_resnet50_keras" ->
// "deeplabv3_resnet50"); "" when there is no reasonable counterpart.
std::string NearestSemanticModel(const std::string& feature_extractor_type);

// The text segtune would write for `proto` (protobuf text format, TF's field order).
std::string PipelineConfigToText(const segtune::config::TrainEvalPipelineConfig& proto);

// 1-based line of the n-th (0-based) occurrence of a dotted field path ("train_config.batch_size") in
// config.text; 0 when the text has no such field (e.g. a field created by mapping a TF model).
int LineOfField(const PipelineConfig& config, const std::string& path, int occurrence = 0);

// True when `path` still holds TF's sample placeholder "PATH_TO_BE_CONFIGURED".
bool IsUnconfiguredPath(const std::string& path);

}  // namespace segtune
