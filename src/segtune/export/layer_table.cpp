#include "segtune/export/layer_table.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "segtune/core/log.h"

namespace segtune {
namespace {

const char* ElemTypeName(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT: return "float32";
    case onnx::TensorProto::UINT8: return "uint8";
    case onnx::TensorProto::INT8: return "int8";
    case onnx::TensorProto::INT32: return "int32";
    case onnx::TensorProto::INT64: return "int64";
    case onnx::TensorProto::FLOAT16: return "float16";
    case onnx::TensorProto::DOUBLE: return "float64";
    case onnx::TensorProto::BOOL: return "bool";
    default: return "?";
  }
}

std::vector<int64_t> DimsOf(const onnx::ValueInfoProto& info) {
  std::vector<int64_t> dims;
  for (const auto& d : info.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

std::string FormatShape(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  return s.empty() ? "-" : s;
}

int64_t Numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return 0;
    n *= d;
  }
  return n;
}

std::string Engineering(double v) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  if (v >= 1e9) out << v / 1e9 << " G";
  else if (v >= 1e6) out << v / 1e6 << " M";
  else if (v >= 1e3) out << v / 1e3 << " k";
  else out << std::setprecision(0) << v << " ";
  return out.str();
}

void DescribeIo(const onnx::ModelProto& model, LayerTable* table) {
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer()) initializers.insert(init.name());
  for (const auto& in : model.graph().input()) {
    if (!initializers.count(in.name())) table->inputs.push_back(in.name() + ": " + DescribeValue(in));
  }
  for (const auto& out : model.graph().output()) table->outputs.push_back(out.name() + ": " + DescribeValue(out));
}

}  // namespace

std::string DescribeValue(const onnx::ValueInfoProto& info) {
  std::string s = std::string(ElemTypeName(info.type().tensor_type().elem_type())) + " [";
  const auto& dims = info.type().tensor_type().shape().dim();
  for (int i = 0; i < dims.size(); ++i) {
    s += i ? ", " : "";
    s += dims[i].has_dim_value() ? std::to_string(dims[i].dim_value())
                                 : (dims[i].dim_param().empty() ? "?" : dims[i].dim_param());
  }
  return s + "]";
}

LayerTable LayerTableFromRecords(const std::string& title, const std::vector<LayerRecord>& records,
                                 const onnx::ModelProto& model) {
  LayerTable table;
  table.title = title;
  table.rows = records;
  for (const auto& r : records) {
    table.total_params += r.params;
    table.total_flops += r.flops;
  }
  DescribeIo(model, &table);
  return table;
}

LayerTable LayerTableFromOnnx(const std::string& title, const onnx::ModelProto& model) {
  const onnx::GraphProto& g = model.graph();
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto* infos : {&g.input(), &g.value_info(), &g.output()}) {
    for (const auto& info : *infos) shapes[info.name()] = DimsOf(info);
  }
  std::map<std::string, std::vector<int64_t>> initializer_dims;
  for (const auto& init : g.initializer()) initializer_dims[init.name()] = {init.dims().begin(), init.dims().end()};
  static const std::set<std::string> kElementwise = {"Relu", "Sigmoid", "HardSigmoid", "HardSwish", "Add", "Mul",
                                                     "Sub", "Div", "Clip", "Tanh", "BatchNormalization"};
  std::set<std::string> counted;
  LayerTable table;
  table.title = title;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& node = g.node(i);
    LayerRecord r;
    r.scope = node.name().empty() ? node.op_type() + "_" + std::to_string(i) : node.name();
    r.type = node.op_type();
    if (node.output_size() > 0 && shapes.count(node.output(0))) r.output_shape = shapes[node.output(0)];
    for (const auto& in : node.input()) {
      const auto it = initializer_dims.find(in);
      if (it != initializer_dims.end() && counted.insert(in).second) r.params += Numel(it->second);
    }
    const int64_t out_numel = Numel(r.output_shape);
    if (node.op_type() == "Conv" && node.input_size() > 1 && initializer_dims.count(node.input(1))) {
      const auto& w = initializer_dims[node.input(1)];
      r.flops = 2 * out_numel * (w.size() == 4 ? w[1] * w[2] * w[3] : 0);
    } else if (node.op_type() == "Resize") {
      r.flops = 4 * out_numel;
    } else if (kElementwise.count(node.op_type())) {
      r.flops = out_numel;
    }
    table.total_params += r.params;
    table.total_flops += r.flops;
    table.rows.push_back(std::move(r));
  }
  DescribeIo(model, &table);
  return table;
}

void PrintLayerTable(const LayerTable& table, std::ostream& out) {
  size_t name_width = 5, type_width = 2, shape_width = 12;
  for (const auto& r : table.rows) {
    name_width = std::max(name_width, r.scope.size());
    type_width = std::max(type_width, r.type.size());
    shape_width = std::max(shape_width, FormatShape(r.output_shape).size());
  }
  name_width = std::min<size_t>(name_width, 60);
  out << table.title << "\n";
  out << std::left << std::setw(int(name_width)) << "layer" << "  " << std::setw(int(type_width)) << "op" << "  "
      << std::setw(int(shape_width)) << "output shape" << "  " << std::right << std::setw(12) << "params" << "  "
      << std::setw(10) << "FLOPs" << "\n";
  for (const auto& r : table.rows) {
    out << std::left << std::setw(int(name_width)) << r.scope << "  " << std::setw(int(type_width)) << r.type << "  "
        << std::setw(int(shape_width)) << FormatShape(r.output_shape) << "  " << std::right << std::setw(12)
        << WithCommas(r.params) << "  " << std::setw(10) << Engineering(double(r.flops)) << "\n";
  }
  out << "layers: " << table.rows.size() << "\n";
  out << "total parameters: " << WithCommas(table.total_params) << "\n";
  out << "total FLOPs: " << Engineering(double(table.total_flops)) << "(" << WithCommas(table.total_flops)
      << "; a multiply-add counts 2)\n";
  for (const auto& in : table.inputs) out << "input " << in << "\n";
  for (const auto& o : table.outputs) out << "output " << o << "\n";
}

}  // namespace segtune
