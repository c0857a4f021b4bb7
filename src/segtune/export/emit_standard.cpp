// ONNX forms of the standard torch::nn modules segtune's models use. Listed in emitter_registry.cpp.
#include "segtune/export/emit_standard.h"

#include <torch/torch.h>

#include "segtune/core/error.h"

namespace segtune {

OnnxValue EmitConv2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  return e.EmitConv(scope, dynamic_cast<torch::nn::Conv2dImpl&>(m), nullptr, "", x);
}

OnnxValue EmitBatchNorm2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& bn = dynamic_cast<torch::nn::BatchNorm2dImpl&>(m);
  const int64_t c = bn.running_mean.numel();
  const torch::Tensor gamma = bn.weight.defined() ? bn.weight : torch::ones({c});
  const torch::Tensor beta = bn.bias.defined() ? bn.bias : torch::zeros({c});
  OnnxValue y = e.Op(scope, "BatchNormalization",
                     {x, e.Const(scope + "/weight", gamma), e.Const(scope + "/bias", beta),
                      e.Const(scope + "/running_mean", bn.running_mean), e.Const(scope + "/running_var", bn.running_var)},
                     bn.forward(x.example), {AttrFloat("epsilon", float(bn.options.eps()))});
  e.Record(scope, "BatchNorm2d", &bn, y, 2 * y.example.numel());
  return y;
}

// An activation that maps to one ONNX op with no parameters.
static OnnxValue EmitElementwise(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x,
                                 const std::string& op, const torch::Tensor& example,
                                 const std::vector<OnnxAttribute>& attrs = {}) {
  OnnxValue y = e.Op(scope, op, {x}, example, attrs);
  e.Record(scope, ModuleTypeName(m), &m, y, example.numel());
  return y;
}

OnnxValue EmitReLU(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  return EmitElementwise(e, scope, m, x, "Relu", torch::relu(x.example));
}

OnnxValue EmitSigmoid(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  return EmitElementwise(e, scope, m, x, "Sigmoid", torch::sigmoid(x.example));
}

OnnxValue EmitHardswishOp(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  return EmitElementwise(e, scope, m, x, "HardSwish", torch::hardswish(x.example));
}

OnnxValue EmitHardsigmoidOp(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  // torch: relu6(x + 3) / 6 = max(0, min(1, x/6 + 1/2)).
  return EmitElementwise(e, scope, m, x, "HardSigmoid", torch::hardsigmoid(x.example),
                         {AttrFloat("alpha", 1.0f / 6.0f), AttrFloat("beta", 0.5f)});
}

OnnxValue EmitAdaptiveAvgPool2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& pool = dynamic_cast<torch::nn::AdaptiveAvgPool2dImpl&>(m);
  const torch::Tensor example = pool.forward(x.example);
  if (example.size(2) != 1 || example.size(3) != 1) {
    throw Error("ONNX export: " + scope + ": only AdaptiveAvgPool2d(1) (global pooling) is supported");
  }
  std::vector<int64_t> dims = x.dims;
  dims[2] = dims[3] = 1;
  OnnxValue y = e.Op(scope, "GlobalAveragePool", {x}, example, {}, dims);
  e.Record(scope, "AdaptiveAvgPool2d", &m, y, x.example.numel());
  return y;
}

OnnxValue EmitMaxPool2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& pool = dynamic_cast<torch::nn::MaxPool2dImpl&>(m);
  const auto& o = pool.options;
  const auto k = *o.kernel_size(), s = *o.stride(), p = *o.padding(), d = *o.dilation();
  OnnxValue y = e.Op(scope, "MaxPool", {x}, pool.forward(x.example),
                     {AttrInts("kernel_shape", {k[0], k[1]}), AttrInts("strides", {s[0], s[1]}),
                      AttrInts("pads", {p[0], p[1], p[0], p[1]}), AttrInts("dilations", {d[0], d[1]}),
                      AttrInt("ceil_mode", o.ceil_mode() ? 1 : 0)});
  e.Record(scope, "MaxPool2d", &m, y, y.example.numel() * k[0] * k[1]);
  return y;
}

OnnxValue EmitPassThrough(OnnxEmitter&, const std::string&, torch::nn::Module&, const OnnxValue& x) {
  return x;  // Dropout and Identity do nothing at inference; emitting no node keeps the graph clean.
}

}  // namespace segtune
