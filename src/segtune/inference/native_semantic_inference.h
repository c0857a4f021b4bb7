// `segtune infer` with a segmentation export, without LibTorch: the model runs in the LibTorch-free
// runtime (runtime/native_semantic_model.h), everything else in the same pipeline and semantic task
// as the LibTorch path (semantic_task.h), so the outputs are the same files and keys. This is what
// libsegtune_infer_plugin.so runs; it starts ~0.5 s sooner than the LibTorch plugin, which is most of
// a short run's difference.
#pragma once

#include <string>

#include "segtune/inference/inference.h"

namespace segtune {

// Why the LibTorch-free runtime cannot run `options` ("--engine torch", "architecture fcn_resnet50",
// "a detection model", "a lone .onnx file", ...), or "" when it can. Reads only model.json.
std::string NativeInferenceDeclines(const InferenceOptions& options);

// Runs `options` like RunInference. Throws like RunInference, and UsageError (having done nothing)
// when NativeInferenceDeclines(options) is not "".
InferenceSummary RunNativeInference(const InferenceOptions& options);

}  // namespace segtune
