// `segtune export` for a segmentation model: a training checkpoint -> an export directory
// (semantic_bundle.h). Called by ExportModel (export_model.h) when the model is a segmentation model.
#pragma once

#include <filesystem>

#include "segtune/export/export_model.h"
#include "segtune/export/semantic_bundle.h"

namespace segtune {

// Builds request.model_name with request.num_classes (0: from the checkpoint's classifier), loads
// `weights` strictly (an auxiliary head is ignored; a checkpoint of another architecture or class
// count is a FormatError naming both) and writes model.onnx, model.safetensors, model.json (with
// `meta`'s provenance and input size) and label_map.pbtxt into a temporary directory renamed onto
// request.output_dir when complete. Returns output_dir. Throws UsageError / IoError / FormatError;
// nothing is left behind.
std::filesystem::path ExportSemanticModel(const ExportOptions& request, const NamedTensors& weights,
                                          SemanticBundleMetadata meta);

}  // namespace segtune
