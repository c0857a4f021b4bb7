// Builds an ONNX model (opset 17, IR 8) node by node while the matching libtorch computation runs
// beside it: every value carries an example tensor, so each node's output shape is known exactly and
// declared in value_info (OpenCV's DNN importer needs declared shapes), and a layer can be checked
// against libtorch as it is emitted.
//
//   OnnxGraph g("lraspp", /*dynamic=*/false);
//   OnnxValue x = g.AddInput("image", example, onnx::TensorProto::FLOAT);
//   OnnxValue y = g.AddNode("backbone/0/Relu", "Relu", {x}, {}, torch::relu(x.example));
//   g.AddOutput("logits", y);
//   onnx::ModelProto model = g.Finish({{"classes", "..."}});
#pragma once

#include <onnx/onnx_pb.h>
#include <torch/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace segtune {

// A value in the graph: its ONNX name, an example of its contents for one concrete input, and its
// declared dims (-1 = unknown/dynamic, known from the example otherwise).
struct OnnxValue {
  std::string name;
  torch::Tensor example;
  std::vector<int64_t> dims;
};

// One node attribute. Build with the helpers below.
using OnnxAttribute = onnx::AttributeProto;
OnnxAttribute AttrInt(const std::string& name, int64_t v);
OnnxAttribute AttrInts(const std::string& name, const std::vector<int64_t>& v);
OnnxAttribute AttrFloat(const std::string& name, float v);
OnnxAttribute AttrString(const std::string& name, const std::string& v);

class OnnxGraph {
 public:
  static constexpr int kOpset = 17;
  static constexpr int kIrVersion = 8;

  // dynamic: the batch and spatial dims of the input are symbolic ("N", "H", "W"); values derived
  // from them are declared with unknown dims. Otherwise every shape is the example's.
  OnnxGraph(std::string graph_name, bool dynamic);

  bool dynamic() const { return dynamic_; }

  // Declares a graph input [N, C, H, W] (dims 0, 2, 3 symbolic when dynamic).
  OnnxValue AddInput(const std::string& name, const torch::Tensor& example, int elem_type);

  // Adds a constant tensor (float32, int64 or uint8) under a unique name derived from `scope`.
  OnnxValue AddInitializer(const std::string& scope, const torch::Tensor& value);

  // Adds one node named `name` (made unique) whose single output is `example`. Unless `dims` is
  // given, the output's declared dims are the example's, with dim i unknown where the first input
  // has the same rank and an unknown dim i. Throws Error if an input is not a value of this graph.
  OnnxValue AddNode(const std::string& name, const std::string& op_type, const std::vector<OnnxValue>& inputs,
                    const std::vector<OnnxAttribute>& attributes, const torch::Tensor& example,
                    std::optional<std::vector<int64_t>> dims = std::nullopt);

  // Declares `value` as a graph output renamed to `name` (the producing node's output is renamed,
  // so no Identity node is needed). `symbolic` names unknown dims (e.g. {"N", "", "H", "W"}).
  void AddOutput(const std::string& name, const OnnxValue& value, const std::vector<std::string>& symbolic);

  // Returns the finished model with the given metadata_props.
  onnx::ModelProto Finish(const std::map<std::string, std::string>& metadata) const;

  const onnx::GraphProto& graph() const { return graph_; }

 private:
  std::string UniqueName(const std::string& wanted);
  void DeclareValueInfo(onnx::ValueInfoProto* info, const std::string& name, const torch::Tensor& example,
                        const std::vector<int64_t>& dims, const std::vector<std::string>& symbolic) const;

  onnx::GraphProto graph_;
  bool dynamic_;
  std::set<std::string> names_;
};

// ONNX element type of a tensor's dtype (float32, int64, uint8). Throws Error for others.
int OnnxElemType(const torch::Tensor& t);

}  // namespace segtune
