#include "segtune/export/export_model.h"

#include <optional>
#include <regex>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/label_map.h"
#include "segtune/config/detection_config.h"
#include "segtune/config/pipeline_config.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/export/detection_export.h"
#include "segtune/export/semantic_export.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/core/sha256.h"
#include "segtune/models/weights.h"

namespace segtune {
namespace {

// Fills model name, class count and label map from the pipeline config where the request leaves them.
// Returns the detection model's options for a detection config.
std::optional<detection::DetectionModelOptions> ApplyPipelineConfig(ExportOptions* r, SemanticBundleMetadata* meta) {
  if (r->pipeline_config.empty()) return std::nullopt;
  if (!std::filesystem::exists(r->pipeline_config)) {
    throw IoError(r->pipeline_config.string() + ": pipeline config not found");
  }
  const PipelineConfig config = LoadPipelineConfig(r->pipeline_config);
  for (const ConfigWarning& w : config.warnings) Warn(w.ToString(config.path));
  meta->config_path = r->pipeline_config.string();
  meta->config_sha256 = Sha256Hex(config.text);
  if (r->label_map.empty() && config.proto.train_input_reader().has_label_map_path()) {
    r->label_map = config.proto.train_input_reader().label_map_path();
  }
  if (IsDetectionConfig(config)) {
    DetectionConfig detection_config = DetectionConfigFromPipeline(config);
    if (r->model_name.empty()) r->model_name = detection_config.model_name;
    return detection_config.options;
  }
  const auto& seg = config.proto.model().segmentation();
  if (r->model_name.empty()) r->model_name = seg.architecture();
  if (r->num_classes == 0) r->num_classes = seg.num_classes();
  if (seg.image_resizer().has_fixed_shape_resizer()) {
    const auto& resizer = seg.image_resizer().fixed_shape_resizer();
    meta->input_size = std::make_pair(int64_t{resizer.height()}, int64_t{resizer.width()});
  }
  return std::nullopt;
}

int64_t CheckpointStep(const NamedTensors& weights, const std::filesystem::path& path) {
  for (const char* key : {"segtune.step", "step", "global_step"}) {
    const auto it = weights.metadata.find(key);
    if (it != weights.metadata.end()) {
      try {
        return std::stoll(it->second);
      } catch (const std::exception&) {
      }
    }
  }
  static const std::regex ckpt("ckpt-([0-9]{1,18})");
  std::smatch m;
  const std::string name = path.filename().string();
  return std::regex_search(name, m, ckpt) ? std::stoll(m[1]) : -1;
}

std::map<std::string, int64_t> DatasetRecords(const NamedTensors& weights) {
  std::map<std::string, int64_t> records;
  for (const auto& [key, value] : weights.metadata) {
    static const std::string prefix = "records/";
    if (key.rfind(prefix, 0) != 0) continue;
    try {
      records[key.substr(prefix.size())] = std::stoll(value);
    } catch (const std::exception&) {
    }
  }
  return records;
}

// The model a segtune training checkpoint says it holds ("" when it does not say).
std::string ArchitectureOf(const NamedTensors& weights) {
  for (const char* key : {"segtune.architecture", "architecture"}) {
    const auto it = weights.metadata.find(key);
    if (it != weights.metadata.end() && !it->second.empty()) return it->second;
  }
  return "";
}

}  // namespace

std::vector<std::string> ExportClassNames(const std::filesystem::path& label_map, int64_t num_classes) {
  if (label_map.empty()) {
    std::vector<std::string> names(num_classes);
    if (num_classes > 0) names[0] = "background";
    return names;
  }
  std::vector<int> outside;
  std::vector<std::string> names = LabelMapClassNames(LoadLabelMap(label_map), static_cast<int>(num_classes), &outside);
  for (int id : outside) {
    Warn(label_map.string() + ": id " + std::to_string(id) + " is outside the model's " + std::to_string(num_classes) +
         " classes");
  }
  return names;
}

std::filesystem::path ExportModel(const ExportOptions& request) {
  ExportOptions r = request;
  SemanticBundleMetadata meta;
  if (r.checkpoint.empty()) throw UsageError("export: --checkpoint is required");
  if (r.output_dir.empty()) throw UsageError("export: --output-dir is required");
  // Before any work: an existing directory or file that is not a previous export is never replaced.
  CheckOutputDirectory(r.output_dir, r.overwrite, {"export", "--output-dir", "segtune export", {"model.json"}});
  const std::optional<detection::DetectionModelOptions> detection_options = ApplyPipelineConfig(&r, &meta);
  r.checkpoint = ResolveCheckpointPath(r.checkpoint);
  if (!r.label_map.empty() && !std::filesystem::exists(r.label_map)) {
    throw IoError(r.label_map.string() + ": label map not found");
  }
  const NamedTensors weights = LoadWeights(r.checkpoint);
  if (r.model_name.empty()) r.model_name = ArchitectureOf(weights);
  if (r.model_name.empty()) {
    throw UsageError("export: no model to export: give --pipeline-config, or --model NAME (see segtune models)");
  }
  meta.segtune_version = SEGTUNE_VERSION;
  meta.checkpoint = r.checkpoint.string();
  meta.checkpoint_step = CheckpointStep(weights, r.checkpoint);
  meta.dataset_records = DatasetRecords(weights);
  if (detection::IsDetectionModel(r.model_name)) {
    // The config's options (when it names this model), else torchvision's defaults.
    const bool from_config = detection_options && (request.model_name.empty() || request.model_name == r.model_name);
    return ExportDetectionModel(r, weights, from_config ? *detection_options : detection::DefaultDetectionOptions(r.model_name),
                                meta);
  }
  return ExportSemanticModel(r, weights, meta);
}

}  // namespace segtune
