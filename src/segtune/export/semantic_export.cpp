#include "segtune/export/semantic_export.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/export/onnx_export.h"
#include "segtune/models/load_state.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {
namespace {

// The classifier's output channels in a checkpoint (the last 1x1 conv bias of the classifier).
int64_t ClassesInCheckpoint(const NamedTensors& weights) {
  for (const char* key : {"classifier.high_classifier.bias", "classifier.4.bias"}) {
    if (const torch::Tensor* t = weights.Find(key)) return t->numel();
  }
  return 0;
}

}  // namespace

std::filesystem::path ExportSemanticModel(const ExportOptions& request, const NamedTensors& weights,
                                          SemanticBundleMetadata meta) {
  ExportOptions r = request;
  const SemanticModelInfo& info = FindSemanticModelInfo(r.model_name);
  if (r.num_classes == 0) r.num_classes = ClassesInCheckpoint(weights);
  if (r.num_classes == 0) throw UsageError("export: give --num-classes (the checkpoint does not show it)");

  AtomicDirectory out(r.output_dir);  // Fails early on an unwritable destination.
  SemanticModel model = CreateSemanticModel(info.name, r.num_classes, false);
  LoadOptions load;
  load.strict = true;
  load.drop_prefixes = {"aux_classifier."};  // Training-only head.
  LoadCheckpointForExport(r.checkpoint, info.name, r.num_classes, [&] { LoadStateDict(*model, weights, load); });
  model->eval();

  meta.architecture = info.name;
  meta.num_classes = r.num_classes;
  meta.class_names = ExportClassNames(r.label_map, r.num_classes);
  meta.mean = info.mean;
  meta.std = info.std;
  meta.onnx_input_type = ToString(r.input_type);
  meta.onnx_shape = r.fixed_size ? "fixed " + std::to_string(r.fixed_size->first) + "x" +
                                       std::to_string(r.fixed_size->second)
                                 : "dynamic";
  if (r.fixed_size) meta.input_size = r.fixed_size;

  OnnxExportOptions onnx_options;
  onnx_options.input_type = r.input_type;
  onnx_options.fixed_size = r.fixed_size;
  onnx_options.mean.assign(info.mean.begin(), info.mean.end());
  onnx_options.std.assign(info.std.begin(), info.std.end());
  onnx_options.graph_name = info.name;
  std::string classes;
  for (size_t i = 0; i < meta.class_names.size(); ++i) classes += (i ? "," : "") + meta.class_names[i];
  onnx_options.metadata = {{"architecture", info.name}, {"num_classes", std::to_string(r.num_classes)},
                           {"classes", classes}};
  Info("export: writing the ONNX graph of " + info.name);
  WriteOnnx(ExportOnnx(*model, onnx_options).model, out.temp_path() / "model.onnx");
  CommitBundle(out, *model, SemanticBundleMetadataToJson(meta), r.label_map);
  return r.output_dir;
}

}  // namespace segtune
