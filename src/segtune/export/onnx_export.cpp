#include "segtune/export/onnx_export.h"

#include <torch/torch.h>

#include <regex>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {

OnnxInputType ParseOnnxInputType(const std::string& text) {
  if (text == "float" || text == "float32") return OnnxInputType::kFloat;
  if (text == "uint8") return OnnxInputType::kUint8;
  throw UsageError("--input-type " + text + ": expected float (RGB in [0, 1]) or uint8 (RGB 0..255)");
}

std::string ToString(OnnxInputType type) { return type == OnnxInputType::kUint8 ? "uint8" : "float"; }

namespace {

// (x * k - mean) / std as x * (k / std) + (-mean / std), with k = 1/255 for uint8 input.
OnnxValue EmitNormalization(OnnxEmitter& e, const OnnxValue& image, const OnnxExportOptions& o) {
  OnnxValue x = image;
  torch::Tensor xf = image.example;
  double k = 1.0;
  if (o.input_type == OnnxInputType::kUint8) {
    xf = image.example.to(torch::kFloat32);
    x = e.Op("preprocess", "Cast", {x}, xf, {AttrInt("to", onnx::TensorProto::FLOAT)});
    k = 1.0 / 255.0;
  }
  torch::Tensor scale = torch::empty({1, 3, 1, 1}), shift = torch::empty({1, 3, 1, 1});
  for (int c = 0; c < 3; ++c) {
    scale[0][c][0][0] = float(k / o.std[c]);
    shift[0][c][0][0] = float(-o.mean[c] / o.std[c]);
  }
  x = e.Op("preprocess/scale", "Mul", {x, e.Const("preprocess/scale", scale)}, xf * scale);
  x = e.Op("preprocess/shift", "Add", {x, e.Const("preprocess/shift", shift)}, x.example + shift);
  e.Record("preprocess", "Normalize", nullptr, x, 2 * x.example.numel());
  return x;
}

}  // namespace

OnnxExport ExportOnnx(torch::nn::Module& model, const OnnxExportOptions& options) {
  if (options.mean.size() != 3 || options.std.size() != 3) throw Error("ONNX export: mean and std need 3 values");
  torch::NoGradGuard no_grad;
  model.eval();
  const bool dynamic = !options.fixed_size.has_value();
  const auto [h, w] = dynamic ? options.trace_size : *options.fixed_size;
  OnnxGraph graph(options.graph_name, dynamic);
  OnnxEmitter emitter(graph);
  emitter.set_fold_batch_norm(options.fold_batch_norm);

  // A deterministic example image; only its shape matters to the graph.
  torch::Tensor example = torch::rand({1, 3, h, w}, torch::Generator(at::detail::createCPUGenerator(7)));
  if (options.input_type == OnnxInputType::kUint8) example = (example * 255).round().to(torch::kUInt8);
  const int elem_type = options.input_type == OnnxInputType::kUint8 ? onnx::TensorProto::UINT8 : onnx::TensorProto::FLOAT;
  const OnnxValue image = graph.AddInput("image", example, elem_type);
  const OnnxValue normalized = EmitNormalization(emitter, image, options);

  const OnnxValue logits = emitter.Emit("", model, normalized);
  if (logits.example.dim() != 4 || logits.example.size(2) != h || logits.example.size(3) != w) {
    throw Error("ONNX export: the model's output " + c10::str(logits.example.sizes()) +
                " is not [N, classes, H, W] at the input size " + std::to_string(h) + "x" + std::to_string(w));
  }
  std::vector<int64_t> class_dims = {logits.dims[0], logits.dims[2], logits.dims[3]};
  const OnnxValue classes = emitter.Op("postprocess", "ArgMax", {logits}, logits.example.argmax(1),
                                       {AttrInt("axis", 1), AttrInt("keepdims", 0)}, class_dims);
  graph.AddOutput("logits", logits, {"N", "", "H", "W"});
  graph.AddOutput("classes", classes, {"N", "H", "W"});

  std::map<std::string, std::string> meta = {
      {"segtune_version", SEGTUNE_VERSION},
      {"input_name", "image"},
      {"input_layout", "NCHW RGB"},
      {"input_type", ToString(options.input_type)},
      {"input_range", options.input_type == OnnxInputType::kUint8 ? "0..255" : "0..1"},
      {"normalization", "inside the graph (mean/std per channel)"},
      {"shape", dynamic ? "dynamic N, H, W" : "fixed 1x3x" + std::to_string(h) + "x" + std::to_string(w)},
      {"outputs", "logits float32 [N, classes, H, W]; classes int64 [N, H, W] (argmax over classes)"},
  };
  for (const auto& [k, v] : options.metadata) meta[k] = v;
  return {graph.Finish(meta), emitter.layers()};
}

void WriteOnnx(const onnx::ModelProto& model, const std::filesystem::path& path) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw IoError(path.string() + ": could not serialize the ONNX model");
  WriteFileAtomic(path, bytes);
}

onnx::ModelProto ReadOnnx(const std::filesystem::path& path) {
  const std::string bytes = ReadFile(path);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes) || !model.has_graph()) {
    throw FormatError(path, "", "not an ONNX model (ModelProto protobuf with a graph expected)");
  }
  return model;
}

}  // namespace segtune
