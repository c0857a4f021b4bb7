#include "segtune/export/onnx_graph.h"

#include <torch/torch.h>

#include <cstring>

#include "segtune/core/error.h"

namespace segtune {

OnnxAttribute AttrInt(const std::string& name, int64_t v) {
  OnnxAttribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

OnnxAttribute AttrInts(const std::string& name, const std::vector<int64_t>& v) {
  OnnxAttribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}

OnnxAttribute AttrFloat(const std::string& name, float v) {
  OnnxAttribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

OnnxAttribute AttrString(const std::string& name, const std::string& v) {
  OnnxAttribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

int OnnxElemType(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return onnx::TensorProto::FLOAT;
    case torch::kInt64: return onnx::TensorProto::INT64;
    case torch::kUInt8: return onnx::TensorProto::UINT8;
    default: throw Error(std::string("ONNX export: unsupported tensor dtype ") + c10::toString(t.scalar_type()));
  }
}

OnnxGraph::OnnxGraph(std::string graph_name, bool dynamic) : dynamic_(dynamic) {
  graph_.set_name(std::move(graph_name));
}

std::string OnnxGraph::UniqueName(const std::string& wanted) {
  std::string name = wanted;
  for (int i = 1; names_.count(name); ++i) name = wanted + "_" + std::to_string(i);
  names_.insert(name);
  return name;
}

void OnnxGraph::DeclareValueInfo(onnx::ValueInfoProto* info, const std::string& name, const torch::Tensor& example,
                                 const std::vector<int64_t>& dims, const std::vector<std::string>& symbolic) const {
  info->set_name(name);
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(OnnxElemType(example));
  auto* shape = tensor_type->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* dim = shape->add_dim();
    if (dims[i] >= 0) {
      dim->set_dim_value(dims[i]);
    } else if (i < symbolic.size() && !symbolic[i].empty()) {
      dim->set_dim_param(symbolic[i]);
    }  // else: an unknown dim without a name.
  }
}

OnnxValue OnnxGraph::AddInput(const std::string& name, const torch::Tensor& example, int elem_type) {
  TORCH_CHECK(example.dim() == 4, "graph input must be [N, C, H, W]");
  TORCH_CHECK(elem_type == OnnxElemType(example), "graph input dtype mismatch");
  OnnxValue v{UniqueName(name), example, example.sizes().vec()};
  if (dynamic_) v.dims[0] = v.dims[2] = v.dims[3] = -1;
  DeclareValueInfo(graph_.add_input(), v.name, example, v.dims, {"N", "", "H", "W"});
  return v;
}

OnnxValue OnnxGraph::AddInitializer(const std::string& scope, const torch::Tensor& value) {
  const torch::Tensor t = value.detach().to(torch::kCPU).contiguous();
  OnnxValue v{UniqueName(scope), t, t.sizes().vec()};
  onnx::TensorProto* init = graph_.add_initializer();
  init->set_name(v.name);
  init->set_data_type(OnnxElemType(t));
  for (int64_t d : t.sizes()) init->add_dims(d);
  init->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
  return v;
}

OnnxValue OnnxGraph::AddNode(const std::string& name, const std::string& op_type, const std::vector<OnnxValue>& inputs,
                             const std::vector<OnnxAttribute>& attributes, const torch::Tensor& example,
                             std::optional<std::vector<int64_t>> dims) {
  onnx::NodeProto* node = graph_.add_node();
  node->set_name(UniqueName(name));
  node->set_op_type(op_type);
  for (const OnnxValue& in : inputs) {
    if (!in.name.empty() && !names_.count(in.name)) throw Error("ONNX export: node " + name + " uses unknown value " + in.name);
    node->add_input(in.name);  // An empty name marks an omitted optional input.
  }
  for (const OnnxAttribute& a : attributes) *node->add_attribute() = a;

  OnnxValue out{UniqueName(node->name() + ":0"), example, example.sizes().vec()};
  node->add_output(out.name);
  if (dims) {
    out.dims = *dims;
  } else if (!inputs.empty() && inputs[0].dims.size() == out.dims.size()) {
    for (size_t i = 0; i < out.dims.size(); ++i) {
      if (inputs[0].dims[i] < 0) out.dims[i] = -1;
    }
  }
  DeclareValueInfo(graph_.add_value_info(), out.name, example, out.dims, {});
  return out;
}

void OnnxGraph::AddOutput(const std::string& name, const OnnxValue& value, const std::vector<std::string>& symbolic) {
  if (names_.count(name)) throw Error("ONNX export: output name " + name + " is already used");
  names_.insert(name);
  for (auto& node : *graph_.mutable_node()) {
    for (auto& s : *node.mutable_input()) if (s == value.name) s = name;
    for (auto& s : *node.mutable_output()) if (s == value.name) s = name;
  }
  auto* infos = graph_.mutable_value_info();
  for (int i = 0; i < infos->size(); ++i) {
    if (infos->Get(i).name() == value.name) {
      infos->DeleteSubrange(i, 1);
      break;
    }
  }
  DeclareValueInfo(graph_.add_output(), name, value.example, value.dims, symbolic);
}

onnx::ModelProto OnnxGraph::Finish(const std::map<std::string, std::string>& metadata) const {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  model.set_producer_name("segtune");
  model.set_producer_version(SEGTUNE_VERSION);
  *model.mutable_graph() = graph_;
  for (const auto& [key, value] : metadata) {
    auto* prop = model.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }
  return model;
}

}  // namespace segtune
