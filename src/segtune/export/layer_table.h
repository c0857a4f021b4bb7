// The `segtune inspect` summary: one row per layer (scope, op, output shape, parameters, FLOPs),
// totals, and the graph's inputs and outputs.
#pragma once

#include <onnx/onnx_pb.h>

#include <ostream>
#include <string>
#include <vector>

#include "segtune/export/onnx_emitter.h"

namespace segtune {

struct LayerTable {
  std::string title;
  std::vector<LayerRecord> rows;
  std::vector<std::string> inputs;   // "image: float32 [1, 3, 512, 512]"
  std::vector<std::string> outputs;
  int64_t total_params = 0;          // Sum over rows.
  int64_t total_flops = 0;
};

// From an export walk of a segtune model (rows = modules, parameters counted per module, so the
// total equals the model's parameter count when every module was emitted).
LayerTable LayerTableFromRecords(const std::string& title, const std::vector<LayerRecord>& records,
                                 const onnx::ModelProto& model);

// From any ONNX file: one row per node; a node's parameters are the elements of the initializers
// it reads first; FLOPs are estimated for Conv/Gemm/MatMul and element-wise ops where shapes are
// declared (0 where a shape is unknown).
LayerTable LayerTableFromOnnx(const std::string& title, const onnx::ModelProto& model);

// Prints the table (shapes as 1x3x512x512, "?" for unknown dims) and the totals.
void PrintLayerTable(const LayerTable& table, std::ostream& out);

// "float32 [N, 3, H, W]" for a graph input/output.
std::string DescribeValue(const onnx::ValueInfoProto& info);

}  // namespace segtune
