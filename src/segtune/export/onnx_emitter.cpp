#include "segtune/export/onnx_emitter.h"

#include <torch/torch.h>

#include <map>

#include "segtune/core/error.h"
#include "segtune/export/bn_fold.h"

namespace segtune {

std::string JoinScope(const std::string& scope, const std::string& child) {
  if (scope.empty()) return child;
  if (child.empty()) return scope;
  return scope + "/" + child;
}

std::string ModuleTypeName(const torch::nn::Module& module) {
  std::string name = module.name();  // e.g. "torch::nn::Conv2dImpl" or "segtune::InvertedResidualImpl".
  const size_t colon = name.rfind("::");
  if (colon != std::string::npos) name = name.substr(colon + 2);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) name.resize(name.size() - 4);
  return name;
}

OnnxValue OnnxEmitter::Emit(const std::string& scope, torch::nn::Module& module, const OnnxValue& x) {
  if (const EmitFn* fn = FindOnnxEmitter(typeid(module))) return (*fn)(*this, scope, module, x);
  if (dynamic_cast<torch::nn::SequentialImpl*>(&module) != nullptr) return EmitChildrenInOrder(scope, module, x);
  throw Error("ONNX export: no ONNX form is registered for module '" + (scope.empty() ? "<root>" : scope) +
              "' of type " + module.name() + " (add an entry to src/segtune/export/emitter_registry.cpp)");
}

OnnxValue OnnxEmitter::EmitChildrenInOrder(const std::string& scope, torch::nn::Module& module, const OnnxValue& x) {
  const auto children = module.named_children();
  OnnxValue v = x;
  for (size_t i = 0; i < children.size(); ++i) {
    const std::string child_scope = JoinScope(scope, children[i].key());
    torch::nn::Module& child = *children[i].value();
    auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(&child);
    auto* bn = i + 1 < children.size() ? dynamic_cast<torch::nn::BatchNorm2dImpl*>(children[i + 1].value().get()) : nullptr;
    if (conv != nullptr && bn != nullptr) {
      v = EmitConv(child_scope, *conv, bn, JoinScope(scope, children[i + 1].key()), v);
      ++i;
    } else {
      v = Emit(child_scope, child, v);
    }
  }
  return v;
}

OnnxValue OnnxEmitter::EmitConv(const std::string& scope, torch::nn::Conv2dImpl& conv, torch::nn::BatchNorm2dImpl* bn,
                                const std::string& bn_scope, const OnnxValue& x) {
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr) throw Error("ONNX export: " + scope + ": only explicit Conv2d padding is supported");
  if (!c10::get_if<torch::enumtype::kZeros>(&o.padding_mode())) {
    throw Error("ONNX export: " + scope + ": only zero padding_mode is supported");
  }
  if (bn != nullptr && !fold_batch_norm_) {
    return Emit(bn_scope, *bn, EmitConv(scope, conv, nullptr, "", x));
  }
  torch::Tensor example = conv.forward(x.example);
  ConvWeights weights{conv.weight, conv.bias};
  if (bn != nullptr) {
    example = bn->forward(example);
    weights = FoldBatchNorm(weights, *bn);
  }
  std::vector<OnnxValue> inputs = {x, Const(scope + "/weight", weights.weight)};
  if (weights.bias.defined()) inputs.push_back(Const(scope + "/bias", weights.bias));
  const auto kernel = weights.weight.sizes();
  const auto& pad = *padding;
  OnnxValue y = Op(scope, "Conv", inputs, example,
                   {AttrInts("kernel_shape", {kernel[2], kernel[3]}),
                    AttrInts("strides", {(*o.stride())[0], (*o.stride())[1]}),
                    AttrInts("pads", {(*pad)[0], (*pad)[1], (*pad)[0], (*pad)[1]}),
                    AttrInts("dilations", {(*o.dilation())[0], (*o.dilation())[1]}), AttrInt("group", o.groups())});
  const int64_t macs = example.numel() * kernel[1] * kernel[2] * kernel[3];
  Record(scope, "Conv2d", &conv, y, 2 * macs + (conv.bias.defined() ? example.numel() : 0));
  if (bn != nullptr) Record(bn_scope, "BatchNorm2d (folded)", bn, y, 0);
  return y;
}

OnnxValue OnnxEmitter::ResizeBilinearLike(const std::string& scope, const OnnxValue& x, const OnnxValue& like) {
  const int64_t h = like.example.size(-2), w = like.example.size(-1);
  const torch::Tensor example = torch::nn::functional::interpolate(
      x.example, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                     .mode(torch::kBilinear).align_corners(false));
  const std::vector<OnnxAttribute> attrs = {AttrString("mode", "linear"),
                                            AttrString("coordinate_transformation_mode", "half_pixel")};
  const OnnxValue no_input{"", {}, {}};
  OnnxValue sizes;
  std::vector<int64_t> dims = x.dims;
  dims[2] = like.dims[2];
  dims[3] = like.dims[3];
  const bool dynamic_size = like.dims[2] < 0 || like.dims[3] < 0 || x.dims[0] < 0;
  if (!dynamic_size) {
    sizes = Const(scope + "/sizes", torch::tensor(example.sizes().vec(), torch::kInt64));
  } else {
    // sizes = Concat(Shape(x)[0:2], Shape(like)[2:4]): batch and channels of x, height and width of like.
    const auto slice = [&](const OnnxValue& of, int64_t begin, int64_t end, const std::string& name) {
      const torch::Tensor full = torch::tensor(of.example.sizes().vec(), torch::kInt64);
      OnnxValue shape = Op(scope + "/" + name, "Shape", {of}, full, {}, std::vector<int64_t>{4});
      return Op(scope + "/" + name, "Slice",
                {shape, Const(scope + "/" + name + "_begin", torch::tensor({begin}, torch::kInt64)),
                 Const(scope + "/" + name + "_end", torch::tensor({end}, torch::kInt64))},
                full.slice(0, begin, end), {}, std::vector<int64_t>{end - begin});
    };
    const OnnxValue nc = slice(x, 0, 2, "batch_channels");
    const OnnxValue hw = slice(like, 2, 4, "height_width");
    sizes = Op(scope, "Concat", {nc, hw}, torch::tensor(example.sizes().vec(), torch::kInt64), {AttrInt("axis", 0)},
               std::vector<int64_t>{4});
  }
  OnnxValue y = Op(scope, "Resize", {x, no_input, no_input, sizes}, example, attrs, dims);
  Record(scope, "Upsample (bilinear)", nullptr, y, 4 * example.numel());
  return y;
}

OnnxValue OnnxEmitter::Binary(const std::string& scope, const std::string& op, const OnnxValue& a,
                              const OnnxValue& b) {
  if (op != "Add" && op != "Mul") throw Error("ONNX export: Binary supports Add and Mul, not " + op);
  const torch::Tensor example = op == "Add" ? a.example + b.example : a.example * b.example;
  const bool swap = b.example.numel() < a.example.numel();
  const OnnxValue& big = swap ? a : b.example.numel() > a.example.numel() ? b : a;
  std::vector<int64_t> dims = example.sizes().vec();
  if (big.dims.size() == dims.size()) {
    for (size_t i = 0; i < dims.size(); ++i) {
      if (big.dims[i] < 0) dims[i] = -1;
    }
  }
  OnnxValue y = Op(scope, op, swap ? std::vector<OnnxValue>{b, a} : std::vector<OnnxValue>{a, b}, example, {}, dims);
  Record(scope, op, nullptr, y, example.numel());
  return y;
}

void OnnxEmitter::Record(const std::string& scope, const std::string& type, torch::nn::Module* module,
                         const OnnxValue& out, int64_t flops) {
  LayerRecord r;
  r.scope = scope;
  r.type = type;
  r.output_shape = out.example.sizes().vec();
  if (module != nullptr) {
    for (const auto& p : module->parameters(/*recurse=*/false)) r.params += p.numel();
  }
  r.flops = flops;
  layers_.push_back(std::move(r));
}

namespace {
std::map<std::type_index, EmitFn>& ExtraEmitters() {
  static std::map<std::type_index, EmitFn> extra;
  return extra;
}
}  // namespace

void RegisterOnnxEmitter(std::type_index module_type, EmitFn fn) { ExtraEmitters()[module_type] = std::move(fn); }

const std::map<std::type_index, EmitFn>& BuiltinOnnxEmitters();  // emitter_registry.cpp

const EmitFn* FindOnnxEmitter(std::type_index module_type) {
  const auto& extra = ExtraEmitters();
  if (auto it = extra.find(module_type); it != extra.end()) return &it->second;
  const auto& builtin = BuiltinOnnxEmitters();
  if (auto it = builtin.find(module_type); it != builtin.end()) return &it->second;
  return nullptr;
}

}  // namespace segtune
