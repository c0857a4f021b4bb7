// The model graph for TensorBoard's Graphs tab, as PyTorch's SummaryWriter.add_graph writes it
// (docs/formats.md §5): one NodeDef per operation, named by its module scope path with '/' separators
// ("backbone/1/block/0/0/Conv"), so TensorBoard draws nested, collapsible scopes (backbone / classifier
// ...), each node with an "_output_shapes" attribute and its ONNX attributes as a string "attr".
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>

namespace tensorboard {
class GraphDef;
}

namespace segtune {

// One NodeDef per ONNX node (op = ONNX op type), plus an "IO Node" per graph input and output
// (under "input/" and "output/"). Node inputs name the producing nodes; initializers (weights) are
// left out, as they would bury the structure. Leading '/' of torch-exported node names is dropped.
tensorboard::GraphDef OnnxToGraphDef(const onnx::ModelProto& model);

// Writes a new event file in `log_dir` holding the graph (and, as add_graph does, a
// tagged_run_metadata "step1" event). Returns the file's path. Throws IoError.
std::filesystem::path WriteGraphEventFile(const tensorboard::GraphDef& graph, const std::filesystem::path& log_dir);

}  // namespace segtune
