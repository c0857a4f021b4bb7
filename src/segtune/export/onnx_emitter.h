// Turns a segtune/libtorch module tree into ONNX nodes. Each module type's ONNX form is one entry
// of a registry (emitter_registry.cpp): a function that emits the nodes for that module, computing
// the libtorch result beside them. A new layer type adds one entry; model-level compositions (the
// LR-ASPP head, DeepLabV3's ASPP, a whole segmentation model) are entries too.
//
// While emitting, every module that does work is recorded as a LayerRecord (scope path, type,
// output shape, parameter count, FLOPs): the same walk feeds `segtune inspect`.
#pragma once

#include <functional>
#include <string>
#include <typeindex>
#include <vector>

#include "segtune/export/onnx_graph.h"

namespace torch::nn {
class Module;
class Conv2dImpl;
class BatchNorm2dImpl;
}  // namespace torch::nn

namespace segtune {

// One row of the layer table.
struct LayerRecord {
  std::string scope;      // Module path with '/' separators: "backbone/features/1/block/0/0".
  std::string type;       // Module type: "Conv2d", "BatchNorm2d (folded)", "InvertedResidual" ...
  std::vector<int64_t> output_shape;
  int64_t params = 0;     // Parameters owned directly by this module (not its children).
  int64_t flops = 0;      // Floating point operations for one example input (a multiply-add = 2).
};

class OnnxEmitter;

// Emits `module` (found at `scope`) applied to `x`; returns its output value.
using EmitFn = std::function<OnnxValue(OnnxEmitter& e, const std::string& scope, torch::nn::Module& module,
                                       const OnnxValue& x)>;

class OnnxEmitter {
 public:
  explicit OnnxEmitter(OnnxGraph& graph) : graph_(graph) {}

  OnnxGraph& graph() { return graph_; }
  bool dynamic() const { return graph_.dynamic(); }

  // false: BatchNorm2d stays a separate BatchNormalization node (for `inspect`, whose graph should
  // show every layer as the model has it). Exports fold (the default).
  void set_fold_batch_norm(bool fold) { fold_batch_norm_ = fold; }

  // Emits any module through the registry. Sequential containers (and subclasses without their own
  // entry) emit their children in order, folding Conv2d + BatchNorm2d pairs. Throws Error naming
  // the scope and module type if no entry describes it.
  OnnxValue Emit(const std::string& scope, torch::nn::Module& module, const OnnxValue& x);
  // Emits the named children of `module` in registration order as a chain (Sequential semantics).
  OnnxValue EmitChildrenInOrder(const std::string& scope, torch::nn::Module& module, const OnnxValue& x);
  // Emits a Conv node; with `bn`, the BatchNorm2d is folded into the convolution's weights.
  OnnxValue EmitConv(const std::string& scope, torch::nn::Conv2dImpl& conv, torch::nn::BatchNorm2dImpl* bn,
                     const std::string& bn_scope, const OnnxValue& x);

  // Emits one node `op_type` under `scope` (node name "scope/op_type").
  OnnxValue Op(const std::string& scope, const std::string& op_type, const std::vector<OnnxValue>& inputs,
               const torch::Tensor& example, const std::vector<OnnxAttribute>& attributes = {},
               std::optional<std::vector<int64_t>> dims = std::nullopt) {
    return graph_.AddNode(scope.empty() ? op_type : scope + "/" + op_type, op_type, inputs, attributes, example,
                          std::move(dims));
  }
  // Commutative Add or Mul of two values with numpy broadcasting, recorded as a layer. The operand
  // that is broadcast (fewer elements) goes first: OpenCV 4.6's importer takes the output shape
  // from the first input (Mul(x[1,8,16,12], s[1,8,1,1]) comes out [1,8,1,1] there).
  OnnxValue Binary(const std::string& scope, const std::string& op, const OnnxValue& a, const OnnxValue& b);
  OnnxValue Const(const std::string& scope, const torch::Tensor& value) { return graph_.AddInitializer(scope, value); }

  // Bilinear resize (align_corners=False, as torch's F.interpolate) of x to the spatial size of
  // `like`. Fixed graphs use a constant `sizes`; dynamic graphs read the size with Shape/Slice/Concat.
  OnnxValue ResizeBilinearLike(const std::string& scope, const OnnxValue& x, const OnnxValue& like);

  // Adds a row to the layer table. `params` are counted from `module`'s own parameters.
  void Record(const std::string& scope, const std::string& type, torch::nn::Module* module, const OnnxValue& out,
              int64_t flops);
  const std::vector<LayerRecord>& layers() const { return layers_; }

 private:
  OnnxGraph& graph_;
  bool fold_batch_norm_ = true;
  std::vector<LayerRecord> layers_;
};

// The registry. Built-in entries are listed in emitter_registry.cpp; tests and extensions may add
// more at run time. Lookup is by the module's dynamic type.
void RegisterOnnxEmitter(std::type_index module_type, EmitFn fn);
const EmitFn* FindOnnxEmitter(std::type_index module_type);

// "scope/child" (or "child" at the root).
std::string JoinScope(const std::string& scope, const std::string& child);
// Short type name of a module ("Conv2d" for torch::nn::Conv2dImpl).
std::string ModuleTypeName(const torch::nn::Module& module);

}  // namespace segtune
