#include "segtune/export/detection_export.h"

#include <torch/torch.h>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/export/detection_bundle.h"
#include "segtune/export/detection_onnx.h"
#include "segtune/export/onnx_export.h"
#include "segtune/models/detection/detection_registry.h"

namespace segtune {
namespace {

// Classes (background included) of the box predictor in a checkpoint; 0 when absent.
int64_t DetectionClassesInCheckpoint(const NamedTensors& weights) {
  const torch::Tensor* bias = weights.Find("roi_heads.box_predictor.cls_score.bias");
  return bias != nullptr ? bias->numel() : 0;
}

}  // namespace

std::filesystem::path ExportDetectionModel(const ExportOptions& r, const NamedTensors& weights,
                                           detection::DetectionModelOptions options,
                                           const BundleMetadata& provenance) {
  const detection::DetectionModelInfo& info = detection::GetDetectionModelInfo(r.model_name);
  if (r.num_classes > 0) options.num_classes = r.num_classes;
  if (r.num_classes == 0 && DetectionClassesInCheckpoint(weights) > 0) {
    options.num_classes = DetectionClassesInCheckpoint(weights);
  }
  if (r.fixed_size) Warn("export: --input-size is ignored for detection models (they resize inside)");

  AtomicDirectory out(r.output_dir);  // Fails early on an unwritable destination.
  detection::GeneralizedRCNN model = detection::BuildDetectionModel(info.name, options);
  LoadCheckpointForExport(r.checkpoint, info.name, options.num_classes,
                          [&] { detection::LoadDetectionWeights(*model, info.name, weights); });
  model->eval();

  DetectionBundleMetadata meta;
  meta.common = provenance;
  meta.common.architecture = info.name;
  meta.common.num_classes = options.num_classes;
  meta.common.class_names = ExportClassNames(r.label_map, options.num_classes);
  meta.options = options;
  meta.has_masks = info.has_masks;
  Info("export: writing the native bundle of " + info.name + " (" + std::to_string(options.num_classes) +
       " classes) and the ONNX graph of its backbone, FPN and RPN head");
  const DetectionOnnxExport onnx = ExportDetectionFeaturesOnnx(
      *model, {{"architecture", info.name}, {"num_classes", std::to_string(options.num_classes)}});
  WriteOnnx(onnx.model, out.temp_path() / kDetectionFeaturesOnnx);
  meta.onnx_files = {kDetectionFeaturesOnnx};
  CommitBundle(out, *model, DetectionBundleMetadataToJson(meta), r.label_map);
  return r.output_dir;
}

}  // namespace segtune
