#include "segtune/export/inspect.h"

#include <torch/torch.h>

#include "event.pb.h"
#include "segtune/core/error.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/export/detection_bundle.h"
#include "segtune/export/detection_onnx.h"
#include "segtune/export/graph_def.h"
#include "segtune/export/onnx_export.h"
#include "segtune/models/load_state.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"

namespace segtune {

LayerTable InspectModule(const std::string& title, torch::nn::Module& model, std::pair<int64_t, int64_t> size,
                         onnx::ModelProto* graph) {
  OnnxExportOptions options;
  options.fixed_size = size;
  options.fold_batch_norm = false;
  OnnxExport exported = ExportOnnx(model, options);
  LayerTable table = LayerTableFromRecords(title, exported.layers, exported.model);
  if (graph != nullptr) *graph = std::move(exported.model);
  return table;
}

namespace {

int64_t ClassesInWeights(const NamedTensors& weights) {
  for (const char* key : {"classifier.high_classifier.bias", "classifier.4.bias"}) {
    if (const torch::Tensor* t = weights.Find(key)) return t->numel();
  }
  return 0;
}

std::string SizeText(std::pair<int64_t, int64_t> size) {
  return std::to_string(size.first) + "x" + std::to_string(size.second);
}

// The request's size, else `recorded` (with where it came from), else the model's recommended size.
std::pair<int64_t, int64_t> ChooseInputSize(const InspectOptions& r, const std::string& model_name,
                                            const std::optional<std::pair<int64_t, int64_t>>& recorded,
                                            std::string* text) {
  if (r.input_size) {
    *text = SizeText(*r.input_size);
    return *r.input_size;
  }
  if (recorded) {
    *text = SizeText(*recorded) + " (model.json)";
    return *recorded;
  }
  const int64_t side = FindSemanticModelInfo(model_name).recommended_input_size;
  *text = SizeText({side, side}) + " (default)";
  return {side, side};
}

}  // namespace

InspectResult Inspect(const InspectOptions& r) {
  InspectResult result;
  onnx::ModelProto graph;
  std::string size;
  if (!r.model.empty() && !std::filesystem::exists(r.model)) throw IoError(r.model.string() + ": not found");
  if (!r.model.empty() && r.model.extension() == ".onnx") {
    graph = ReadOnnx(r.model);
    result.table = LayerTableFromOnnx(r.model.string() + " (ONNX, " + std::to_string(graph.graph().node_size()) +
                                          " nodes, " + std::to_string(graph.graph().initializer_size()) +
                                          " initializers)",
                                      graph);
  } else if (!r.model.empty() && IsDetectionBundle(r.model)) {
    // The table covers what detector_features.onnx holds; the RoI heads run natively.
    DetectionBundle bundle = LoadDetectionBundle(r.model);
    const int64_t side = (bundle.metadata.options.min_size + 31) / 32 * 32;
    result.input_size = r.input_size ? *r.input_size : std::make_pair(side, side);
    const DetectionOnnxExport features = ExportDetectionFeaturesOnnx(*bundle.model, {}, result.input_size);
    graph = features.model;
    result.table = LayerTableFromRecords(
        r.model.string() + " (" + bundle.metadata.common.architecture + ", " +
            std::to_string(bundle.metadata.common.num_classes) + " classes): backbone + FPN + RPN head at " +
            std::to_string(result.input_size.first) + "x" + std::to_string(result.input_size.second) +
            " (the resized, padded input; RoI heads not listed)",
        features.layers, graph);
    result.model_parameters = CountParameters(*bundle.model);
  } else if (!r.model.empty() && std::filesystem::is_directory(r.model)) {
    SemanticBundle bundle = LoadSemanticBundle(r.model);
    result.input_size = ChooseInputSize(r, bundle.metadata.architecture, bundle.metadata.input_size, &size);
    result.table = InspectModule(r.model.string() + " (" + bundle.metadata.architecture + ", " +
                                     std::to_string(bundle.metadata.num_classes) + " classes) at " + size,
                                 *bundle.model, result.input_size, &graph);
    result.model_parameters = CountParameters(*bundle.model);
  } else {
    if (r.model_name.empty()) {
      throw UsageError("inspect: " + (r.model.empty() ? std::string("give MODEL") : r.model.string()) +
                       ": a checkpoint needs --model NAME (an export directory or .onnx file does not)");
    }
    NamedTensors weights;
    if (!r.model.empty()) weights = LoadWeights(r.model);
    int64_t classes = r.num_classes > 0 ? r.num_classes : ClassesInWeights(weights);
    if (classes == 0) classes = 21;
    SemanticModel model = CreateSemanticModel(r.model_name, classes, false);
    result.input_size = ChooseInputSize(r, r.model_name, std::nullopt, &size);
    if (!r.model.empty()) {
      LoadOptions load;
      load.strict = true;
      load.drop_prefixes = {"aux_classifier."};
      LoadStateDict(*model, weights, load);
    }
    result.table = InspectModule((r.model.empty() ? r.model_name + " (fresh weights)" : r.model.string() + " (" + r.model_name + ")") +
                                     ", " + std::to_string(classes) + " classes, at " + size,
                                 *model, result.input_size, &graph);
    result.model_parameters = CountParameters(*model);
  }
  if (!r.log_dir.empty()) result.event_file = WriteGraphEventFile(OnnxToGraphDef(graph), r.log_dir);
  return result;
}

}  // namespace segtune
