#include "segtune/export/graph_def.h"

#include <map>
#include <sstream>

#include "event.pb.h"
#include "segtune/formats/events.h"

namespace segtune {
namespace {

using ShapeMap = std::map<std::string, tensorboard::TensorShapeProto>;

tensorboard::TensorShapeProto ToTensorBoardShape(const onnx::ValueInfoProto& info) {
  tensorboard::TensorShapeProto shape;
  if (!info.type().tensor_type().has_shape()) {
    shape.set_unknown_rank(true);
    return shape;
  }
  for (const auto& d : info.type().tensor_type().shape().dim()) {
    auto* dim = shape.add_dim();
    dim->set_size(d.has_dim_value() ? d.dim_value() : -1);
    if (d.has_dim_param()) dim->set_name(d.dim_param());
  }
  return shape;
}

std::string DescribeAttributes(const onnx::NodeProto& node) {
  std::ostringstream out;
  out << "{";
  for (int i = 0; i < node.attribute_size(); ++i) {
    const auto& a = node.attribute(i);
    out << (i ? ", " : "") << a.name() << ": ";
    switch (a.type()) {
      case onnx::AttributeProto::INT: out << a.i(); break;
      case onnx::AttributeProto::FLOAT: out << a.f(); break;
      case onnx::AttributeProto::STRING: out << "'" << a.s() << "'"; break;
      case onnx::AttributeProto::INTS: {
        out << "[";
        for (int j = 0; j < a.ints_size(); ++j) out << (j ? ", " : "") << a.ints(j);
        out << "]";
        break;
      }
      case onnx::AttributeProto::FLOATS: {
        out << "[";
        for (int j = 0; j < a.floats_size(); ++j) out << (j ? ", " : "") << a.floats(j);
        out << "]";
        break;
      }
      default: out << "...";
    }
  }
  out << "}";
  return out.str();
}

std::string NodeName(const onnx::NodeProto& node, int index) {
  std::string name = node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

void SetOutputShape(tensorboard::NodeDef* def, const ShapeMap& shapes, const std::string& value) {
  auto* list = (*def->mutable_attr())["_output_shapes"].mutable_list();
  const auto it = shapes.find(value);
  if (it != shapes.end()) {
    *list->add_shape() = it->second;
  } else {
    list->add_shape()->set_unknown_rank(true);
  }
}

}  // namespace

tensorboard::GraphDef OnnxToGraphDef(const onnx::ModelProto& model) {
  const onnx::GraphProto& g = model.graph();
  ShapeMap shapes;
  for (const auto* infos : {&g.input(), &g.value_info(), &g.output()}) {
    for (const auto& info : *infos) shapes[info.name()] = ToTensorBoardShape(info);
  }
  std::map<std::string, std::string> producer;  // Value name -> GraphDef node name.
  tensorboard::GraphDef graph;
  graph.mutable_versions()->set_producer(22);
  std::map<std::string, bool> is_initializer;
  for (const auto& init : g.initializer()) is_initializer[init.name()] = true;

  for (const auto& input : g.input()) {
    if (is_initializer.count(input.name())) continue;  // Old-style graphs list weights as inputs.
    tensorboard::NodeDef* def = graph.add_node();
    def->set_name("input/" + input.name());
    def->set_op("IO Node");
    SetOutputShape(def, shapes, input.name());
    producer[input.name()] = def->name();
  }
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& node = g.node(i);
    tensorboard::NodeDef* def = graph.add_node();
    def->set_name(NodeName(node, i));
    def->set_op(node.op_type());
    for (const auto& in : node.input()) {
      const auto it = producer.find(in);
      if (it != producer.end()) def->add_input(it->second);
    }
    (*def->mutable_attr())["attr"].set_s(DescribeAttributes(node));
    for (const auto& out : node.output()) {
      SetOutputShape(def, shapes, out);
      producer[out] = def->name();
    }
  }
  for (const auto& output : g.output()) {
    tensorboard::NodeDef* def = graph.add_node();
    def->set_name("output/" + output.name());
    def->set_op("IO Node");
    const auto it = producer.find(output.name());
    if (it != producer.end()) def->add_input(it->second);
    SetOutputShape(def, shapes, output.name());
  }
  return graph;
}

std::filesystem::path WriteGraphEventFile(const tensorboard::GraphDef& graph, const std::filesystem::path& log_dir) {
  EventWriter writer(log_dir);
  writer.AddGraph(graph);
  tensorboard::RunMetadata run_metadata;
  run_metadata.mutable_step_stats()->add_dev_stats()->set_device("/device:CPU:0");
  tensorboard::Event event;
  event.mutable_tagged_run_metadata()->set_tag("step1");
  event.mutable_tagged_run_metadata()->set_run_metadata(run_metadata.SerializeAsString());
  writer.Write(event);
  return writer.path();
}

}  // namespace segtune
