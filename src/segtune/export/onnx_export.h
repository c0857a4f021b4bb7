// Exporting a segmentation model to a self-contained ONNX inference graph.
//
// Graph conventions (docs/export.md):
//   input  "image":   float32 [N, 3, H, W] RGB in [0, 1]       (InputType::kFloat), or
//                     uint8   [N, 3, H, W] RGB 0..255           (InputType::kUint8);
//                     the model's mean/std normalization happens inside the graph.
//   output "logits":  float32 [N, classes, H, W] (upsampled to the input size),
//          "classes": int64   [N, H, W] = ArgMax over the class axis.
// Dynamic export: N, H and W are symbolic; resizes read sizes with Shape/Slice/Concat (ONNX Runtime).
// Fixed export (fixed_size set): N = 1 and H, W fixed; every shape and resize size is a constant,
// which OpenCV's DNN importer needs.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segtune/export/onnx_emitter.h"

namespace torch::nn {
class Module;
}

namespace segtune {

enum class OnnxInputType { kFloat, kUint8 };

// "float" / "uint8". Throws UsageError for anything else.
OnnxInputType ParseOnnxInputType(const std::string& text);
std::string ToString(OnnxInputType type);

struct OnnxExportOptions {
  OnnxInputType input_type = OnnxInputType::kFloat;
  // Fixed input [1, 3, H, W] when set; dynamic otherwise.
  std::optional<std::pair<int64_t, int64_t>> fixed_size;
  // Example input size used to trace a dynamic export (shapes in the layer table come from it).
  std::pair<int64_t, int64_t> trace_size{64, 64};
  std::vector<float> mean{0.485f, 0.456f, 0.406f};  // Per RGB channel, applied to [0, 1] values.
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  std::string graph_name = "segtune";
  // Fold BatchNorm2d into the convolutions (exports). `inspect` keeps them as nodes.
  bool fold_batch_norm = true;
  std::map<std::string, std::string> metadata;  // Extra metadata_props (classes, architecture ...).
};

struct OnnxExport {
  onnx::ModelProto model;
  std::vector<LayerRecord> layers;  // Every module emitted, in graph order.
};

// Emits `model` (eval mode is set; parameters are not modified) through the emitter registry.
// The root module's emitter must return logits at the input's spatial size. metadata_props get
// "segtune_version", "input_name", "input_layout", "input_type", "input_range", "shape" ("dynamic" or
// "fixed HxW"), "outputs" plus options.metadata. Throws Error naming the module that has no ONNX form.
OnnxExport ExportOnnx(torch::nn::Module& model, const OnnxExportOptions& options);

// Serializes atomically. Throws IoError.
void WriteOnnx(const onnx::ModelProto& model, const std::filesystem::path& path);
// Parses an .onnx file. Throws IoError / FormatError naming the file.
onnx::ModelProto ReadOnnx(const std::filesystem::path& path);


}  // namespace segtune
