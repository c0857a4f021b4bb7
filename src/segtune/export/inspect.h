// `segtune inspect`: the layer table of a model and, optionally, its graph for TensorBoard.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "segtune/export/layer_table.h"

namespace torch::nn {
class Module;
}

namespace segtune {

struct InspectOptions {
  // An export directory (model.json), a .onnx file, or a checkpoint (.pth/.safetensors, with
  // model_name). Empty with model_name: a freshly initialised model. A detection export directory
  // is shown as its ONNX part (backbone + FPN + RPN head, detection_onnx.h) at input_size (default:
  // min_size rounded up to a multiple of 32, square).
  std::filesystem::path model;
  std::string model_name;
  int64_t num_classes = 0;  // 0: from the checkpoint, else 21.
  // For shapes and FLOPs (not used for .onnx files). Unset: an export directory's model.json
  // input size (the trained/exported size), else the model's recommended size (520x520).
  std::optional<std::pair<int64_t, int64_t>> input_size;
  std::filesystem::path log_dir;  // Non-empty: also write a TensorBoard event file with the graph.
};

struct InspectResult {
  LayerTable table;
  std::pair<int64_t, int64_t> input_size{0, 0};  // The size the table was computed at (0x0 for .onnx).
  int64_t model_parameters = -1;   // The whole model's parameter count (-1 for .onnx files).
  std::filesystem::path event_file;  // Set when log_dir was given.
};

// Builds the table (and event file). Throws UsageError / IoError / FormatError naming the input.
InspectResult Inspect(const InspectOptions& request);

// The table of a model (BatchNorm unfolded, so every layer is a row and a graph node) at one size.
// Also returns the ONNX graph the rows came from, in *graph when non-null.
LayerTable InspectModule(const std::string& title, torch::nn::Module& model, std::pair<int64_t, int64_t> size,
                         onnx::ModelProto* graph);

}  // namespace segtune
