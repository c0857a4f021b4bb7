#include "segtune/engine/config_check.h"

#include <torch/torch.h>

#include "segtune/config/config_check.h"
#include "segtune/config/detection_config.h"
#include "segtune/config/pipeline_config.h"
#include "segtune/core/error.h"
#include "segtune/engine/finetune.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {

namespace {

// Loads the fine-tune checkpoint into a fresh model (`load` builds it and loads) and reports the fit.
template <typename LoadFn>
void CheckCheckpoint(const PipelineConfig& config, const std::string& model_name, const LoadFn& load,
                     ConfigCheckReport* r) {
  const auto& train = config.proto.train_config();
  if (!train.has_fine_tune_checkpoint() || train.fine_tune_checkpoint().empty()) {
    r->warnings.push_back("train_config.fine_tune_checkpoint is not set: training starts from random weights");
    return;
  }
  const std::string ckpt = train.fine_tune_checkpoint();
  if (IsUnconfiguredPath(ckpt)) {
    r->errors.push_back("train_config.fine_tune_checkpoint still holds TF's placeholder: " + ckpt);
    return;
  }
  try {
    torch::NoGradGuard no_grad;
    const LoadReport report = load(ckpt, train.fine_tune_checkpoint_type());
    r->notes.push_back("fine_tune_checkpoint " + ckpt + " fits " + model_name + ": " +
                       std::to_string(report.loaded.size()) + " tensors load, " +
                       std::to_string(report.reinitialized.size()) + " re-initialised (class layers), " +
                       std::to_string(report.missing.size()) + " missing, " + std::to_string(report.unexpected.size()) +
                       " unexpected");
    if (!report.missing.empty() && report.missing.size() > report.reinitialized.size()) {
      r->warnings.push_back("fine_tune_checkpoint: " + std::to_string(report.missing.size()) +
                            " model tensors are not in the checkpoint (they start from random init)");
    }
  } catch (const Error& e) {
    r->errors.push_back("train_config.fine_tune_checkpoint: " + std::string(e.what()));
  } catch (const c10::Error& e) {
    r->errors.push_back("train_config.fine_tune_checkpoint: " + std::string(e.what_without_backtrace()));
  }
}

}  // namespace

ConfigCheckReport CheckPipelineConfig(const std::filesystem::path& path) {
  ConfigCheckReport r;
  const PipelineConfig config = LoadPipelineConfig(path);
  const std::optional<CheckedModel> model = CheckPipelineConfigSettings(config, &r);
  if (!model) return r;
  if (IsDetectionConfig(config)) {
    const DetectionConfig d = DetectionConfigFromPipeline(config);
    CheckCheckpoint(config, model->name, [&d](const std::string& ckpt, const std::string& type) {
      detection::GeneralizedRCNN built = detection::BuildDetectionModel(d.model_name, d.options);
      return LoadDetectionFineTuneCheckpoint(*built, d.model_name, ckpt, type);
    }, &r);
  } else if (model->num_classes >= 1) {
    const auto& seg = config.proto.model().segmentation();
    CheckCheckpoint(config, model->name, [&seg](const std::string& ckpt, const std::string& type) {
      SemanticModel built = CreateSemanticModel(seg.architecture(), seg.num_classes(), seg.aux_loss());
      return LoadFineTuneCheckpoint(*built, ckpt, type);
    }, &r);
  }
  return r;
}

}  // namespace segtune
