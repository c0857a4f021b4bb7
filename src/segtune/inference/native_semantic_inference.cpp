#include "segtune/inference/native_semantic_inference.h"

#include <memory>
#include <utility>
#include <vector>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/formats/bundle_metadata.h"
#include "segtune/inference/semantic_task.h"
#include "segtune/runtime/native_semantic_model.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

// The export directory `model` names: itself, or the folder of an .onnx file with model.json beside it
// (as the LibTorch path, which then also runs the bundle). "" for anything else.
fs::path BundleDirectory(const fs::path& model) {
  std::error_code ec;
  if (fs::is_directory(model, ec)) return model;
  if (model.extension() != ".onnx") return {};
  const fs::path dir = model.parent_path().empty() ? fs::path(".") : model.parent_path();
  return fs::exists(dir / "model.json", ec) ? dir : fs::path();
}

// The class maps of each image from the runtime's model. Images of 256x256 pixels or more go through
// one at a time (their activations then stay in cache, as on the LibTorch path); smaller images of one
// size share a pass.
class NativeSemanticTask : public SemanticTask {
 public:
  NativeSemanticTask(const NativeSemanticModel& model, const SemanticBundleMetadata& meta,
                     const InferenceOptions& options, const SemanticSink& sink)
      : SemanticTask(meta.class_names, meta.num_classes, options, sink), model_(model), meta_(meta) {}

 protected:
  void PredictClassMaps(const std::vector<PipelineImage*>& images, std::vector<ClassMaps>& maps,
                        StageClock& clock) const override {
    for (const auto& [begin, end] : SameSizeRuns(images)) {
      const bool large = static_cast<int64_t>(images[begin]->bgr.rows) * images[begin]->bgr.cols >= 256 * 256;
      const size_t step = large ? 1 : end - begin;
      for (size_t k = begin; k < end; k += step) PredictRun(images, k, std::min(k + step, end), maps, clock);
    }
  }

 private:
  void PredictRun(const std::vector<PipelineImage*>& images, size_t begin, size_t end, std::vector<ClassMaps>& maps,
                  StageClock& clock) const {
    thread_local Workspace workspace;  // One per worker: its blocks are reused image after image.
    const int h = images[begin]->bgr.rows, w = images[begin]->bgr.cols;
    NhwcTensor x = workspace.Take(static_cast<int64_t>(end - begin), h, w, 3);
    {
      StageClock::Scope timed(clock, "normalize");
      NormalizeImages(images, begin, end, meta_.mean.data(), meta_.std.data(), x.data());
    }
    NhwcTensor logits;
    {
      StageClock::Scope timed(clock, "forward");
      logits = model_.HeadLogits(std::move(x), workspace);
    }
    StageClock::Scope timed(clock, "argmax");
    for (size_t k = begin; k < end; ++k) {
      const LogitsView view{logits.pixel(static_cast<int64_t>(k - begin), 0, 0), logits.c, logits.h, logits.w, 1,
                            logits.w * logits.c, logits.c};
      maps[k] = ResizedClassMaps(view, h, w);
    }
  }

  const NativeSemanticModel& model_;
  const SemanticBundleMetadata& meta_;
};

}  // namespace

NativeInferencePlan PlanNativeInference(const InferenceOptions& options) {
  NativeInferencePlan plan;
  if (options.device != "cpu") {
    plan.declined = "--device " + options.device;
  } else if (options.engine != "onednn") {
    plan.declined = "--engine " + options.engine;
  } else if ((plan.dir = BundleDirectory(options.model)).empty()) {
    plan.declined = "not an export directory";
  } else if (const std::string kind = BundleKind(plan.dir); kind != "segmentation") {
    plan.declined = kind.empty() ? "no model.json" : "a " + kind + " model";
  } else {
    plan.meta = SemanticBundleMetadataFromJson(ReadFile(plan.dir / "model.json"), plan.dir / "model.json");
    if (!NativeRuntimeBuilds(plan.meta.architecture)) plan.declined = "architecture " + plan.meta.architecture;
  }
  return plan;
}

InferenceSummary RunNativeInference(const InferenceOptions& options, const NativeInferencePlan& plan) {
  if (!plan.declined.empty()) {
    throw UsageError("the LibTorch-free runtime cannot run this (" + plan.declined + ")");
  }
  CheckInferenceOutputs(options);
  if (!fs::is_directory(options.model)) {
    Info("using the native bundle in " + plan.dir.string() + " (same weights as " +
         options.model.filename().string() + ")");
  }
  const SemanticBundleMetadata& meta = plan.meta;
  const NativeSemanticModel model(meta.architecture, meta.num_classes, StateDict::Load(plan.dir / "model.safetensors"));
  Debug("engine onednn, LibTorch-free runtime: " + std::to_string(model.convolutions()) + " convolutions in " +
        OneDnnVersion());
  InferenceSummary summary = RunInferencePipeline(NativeSemanticTask(model, meta, options, {}));
  summary.class_names = meta.class_names;
  summary.num_classes = meta.num_classes;
  return summary;
}

}  // namespace segtune
