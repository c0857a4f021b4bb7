// `segtune infer` with a segmentation export, without LibTorch: the model runs in the LibTorch-free
// runtime (runtime/native_semantic_model.h), everything else in the same pipeline and semantic task
// as the LibTorch path (semantic_task.h), so the outputs are the same files and keys. This is what
// libsegtune_infer_plugin.so runs; it starts ~0.5 s sooner than the LibTorch plugin, which is most of
// a short run's difference.
#pragma once

#include <filesystem>
#include <string>

#include "segtune/formats/bundle_metadata.h"
#include "segtune/inference/inference.h"

namespace segtune {

// What the LibTorch-free runtime would run for a set of options: the export directory and its
// model.json, read once, or why it cannot.
struct NativeInferencePlan {
  // "" when the runtime runs it; else why not: "--engine torch", "architecture fcn_resnet50", "a
  // detection model", "not an export directory", ...
  std::string declined;
  std::filesystem::path dir;  // The export directory (options.model, or an .onnx file's folder).
  SemanticBundleMetadata meta;
};

// Reads only model.json. Throws FormatError for a model.json that cannot be parsed.
NativeInferencePlan PlanNativeInference(const InferenceOptions& options);

// Runs `options` like RunInference, with `plan` = PlanNativeInference(options). Throws like
// RunInference, and UsageError (having done nothing) when the plan declined.
InferenceSummary RunNativeInference(const InferenceOptions& options, const NativeInferencePlan& plan);

}  // namespace segtune
