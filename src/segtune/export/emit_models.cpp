#include "segtune/export/emit_models.h"

#include <torch/torch.h>

#include <map>

#include "segtune/core/error.h"
#include "segtune/models/deeplabv3.h"
#include "segtune/models/fcn.h"
#include "segtune/models/layers.h"
#include "segtune/models/lraspp.h"
#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/resnet.h"

namespace segtune {
namespace {

using Features = std::map<std::string, OnnxValue>;

// An activation applied inline by a block's forward() (no module of its own).
OnnxValue EmitActivation(OnnxEmitter& e, const std::string& scope, Activation activation, const OnnxValue& x) {
  OnnxValue y;
  switch (activation) {
    case Activation::kNone: return x;
    case Activation::kReLU: y = e.Op(scope, "Relu", {x}, torch::relu(x.example)); break;
    case Activation::kSigmoid: y = e.Op(scope, "Sigmoid", {x}, torch::sigmoid(x.example)); break;
    case Activation::kHardswish: y = e.Op(scope, "HardSwish", {x}, torch::hardswish(x.example)); break;
    case Activation::kHardsigmoid:
      y = e.Op(scope, "HardSigmoid", {x}, torch::hardsigmoid(x.example),
               {AttrFloat("alpha", 1.0f / 6.0f), AttrFloat("beta", 0.5f)});
      break;
  }
  e.Record(scope, ActivationName(activation), nullptr, y, y.example.numel());
  return y;
}

OnnxValue EmitBinary(OnnxEmitter& e, const std::string& scope, const std::string& op, const OnnxValue& a,
                     const OnnxValue& b) {
  return e.Binary(scope, op, a, b);
}

OnnxValue EmitGlobalAveragePool(OnnxEmitter& e, const std::string& scope, const OnnxValue& x) {
  std::vector<int64_t> dims = x.dims;
  dims[2] = dims[3] = 1;
  OnnxValue y = e.Op(scope, "GlobalAveragePool", {x}, torch::adaptive_avg_pool2d(x.example, {1, 1}), {}, dims);
  e.Record(scope, "AdaptiveAvgPool2d", nullptr, y, x.example.numel());
  return y;
}

}  // namespace

// The backbone's returned features ("low"/"high" or "out"/"aux"), as IntermediateLayerGetter.
Features EmitBackbone(OnnxEmitter& e, const std::string& scope, BackboneImpl& backbone, const OnnxValue& input) {
  Features features;
  const auto collect = [&](const std::string& child, const OnnxValue& v) {
    const auto it = backbone.return_layers().find(child);
    if (it != backbone.return_layers().end()) features[it->second] = v;
  };
  if (auto* mobilenet = dynamic_cast<MobileNetV3LargeBackboneImpl*>(&backbone)) {
    OnnxValue x = e.Emit(JoinScope(scope, "0"), *mobilenet->stem, input);
    collect("0", x);
    for (size_t i = 0; i < mobilenet->blocks.size(); ++i) {
      const std::string child = std::to_string(i + 1);
      x = e.Emit(JoinScope(scope, child), *mobilenet->blocks[i], x);
      collect(child, x);
    }
    const std::string last = std::to_string(mobilenet->blocks.size() + 1);
    collect(last, e.Emit(JoinScope(scope, last), *mobilenet->last, x));
  } else if (auto* resnet = dynamic_cast<ResNetBackboneImpl*>(&backbone)) {
    OnnxValue x = e.EmitConv(JoinScope(scope, "conv1"), *resnet->conv1, resnet->bn1.get(), JoinScope(scope, "bn1"), input);
    x = EmitActivation(e, JoinScope(scope, "relu"), Activation::kReLU, x);
    const torch::Tensor pooled = torch::max_pool2d(x.example, {3, 3}, {2, 2}, {1, 1});
    x = e.Op(JoinScope(scope, "maxpool"), "MaxPool", {x}, pooled,
             {AttrInts("kernel_shape", {3, 3}), AttrInts("strides", {2, 2}), AttrInts("pads", {1, 1, 1, 1})});
    e.Record(JoinScope(scope, "maxpool"), "MaxPool2d", nullptr, x, 9 * pooled.numel());
    const std::pair<const char*, torch::nn::Sequential*> stages[] = {
        {"layer1", &resnet->layer1}, {"layer2", &resnet->layer2}, {"layer3", &resnet->layer3}, {"layer4", &resnet->layer4}};
    for (const auto& [name, layer] : stages) {
      x = e.Emit(JoinScope(scope, name), **layer, x);
      collect(name, x);
    }
  } else {
    throw Error("ONNX export: backbone '" + scope + "' of type " + backbone.name() + " has no ONNX form");
  }
  return features;
}

OnnxValue EmitConv2dNormActivation(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& block = dynamic_cast<Conv2dNormActivationImpl&>(m);
  const OnnxValue y = e.EmitConv(JoinScope(scope, "0"), *block.conv, block.bn.get(), JoinScope(scope, "1"), x);
  return EmitActivation(e, JoinScope(scope, "2"), block.options.activation, y);
}

OnnxValue EmitSqueezeExcitation(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& se = dynamic_cast<SqueezeExcitationImpl&>(m);
  OnnxValue s = EmitGlobalAveragePool(e, JoinScope(scope, "avgpool"), x);
  s = EmitActivation(e, JoinScope(scope, "activation"), se.activation, e.Emit(JoinScope(scope, "fc1"), *se.fc1, s));
  s = EmitActivation(e, JoinScope(scope, "scale_activation"), se.scale_activation,
                     e.Emit(JoinScope(scope, "fc2"), *se.fc2, s));
  return EmitBinary(e, JoinScope(scope, "scale"), "Mul", x, s);
}

OnnxValue EmitInvertedResidual(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& block = dynamic_cast<InvertedResidualImpl&>(m);
  const std::string inner = JoinScope(scope, "block");
  int index = 0;  // Children of `block` are numbered in the order they exist.
  OnnxValue y = x;
  // Empty ModuleHolders (no expand / no SE) throw on get(): test them first.
  const std::vector<torch::nn::Module*> parts = {block.expand ? block.expand.get() : nullptr, block.depthwise.get(),
                                                 block.se ? block.se.get() : nullptr, block.project.get()};
  for (torch::nn::Module* part : parts) {
    if (part != nullptr) y = e.Emit(JoinScope(inner, std::to_string(index++)), *part, y);
  }
  return block.use_res_connect ? EmitBinary(e, JoinScope(scope, "residual"), "Add", y, x) : y;
}

OnnxValue EmitBottleneck(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& b = dynamic_cast<BottleneckImpl&>(m);
  OnnxValue y = e.EmitConv(JoinScope(scope, "conv1"), *b.conv1, b.bn1.get(), JoinScope(scope, "bn1"), x);
  y = EmitActivation(e, JoinScope(scope, "relu1"), Activation::kReLU, y);
  y = e.EmitConv(JoinScope(scope, "conv2"), *b.conv2, b.bn2.get(), JoinScope(scope, "bn2"), y);
  y = EmitActivation(e, JoinScope(scope, "relu2"), Activation::kReLU, y);
  y = e.EmitConv(JoinScope(scope, "conv3"), *b.conv3, b.bn3.get(), JoinScope(scope, "bn3"), y);
  const OnnxValue identity = b.downsample ? e.Emit(JoinScope(scope, "downsample"), *b.downsample, x) : x;
  y = EmitBinary(e, JoinScope(scope, "residual"), "Add", y, identity);
  return EmitActivation(e, JoinScope(scope, "relu"), Activation::kReLU, y);
}

OnnxValue EmitASPPConv(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& c = dynamic_cast<ASPPConvImpl&>(m);
  const OnnxValue y = e.EmitConv(JoinScope(scope, "0"), *c.conv, c.bn.get(), JoinScope(scope, "1"), x);
  return EmitActivation(e, JoinScope(scope, "2"), Activation::kReLU, y);
}

OnnxValue EmitASPPPooling(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& p = dynamic_cast<ASPPPoolingImpl&>(m);
  OnnxValue y = EmitGlobalAveragePool(e, JoinScope(scope, "0"), x);
  y = e.EmitConv(JoinScope(scope, "1"), *p.conv, p.bn.get(), JoinScope(scope, "2"), y);
  y = EmitActivation(e, JoinScope(scope, "3"), Activation::kReLU, y);
  return e.ResizeBilinearLike(JoinScope(scope, "upsample"), y, x);
}

OnnxValue EmitASPP(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& aspp = dynamic_cast<ASPPImpl&>(m);
  const std::string convs = JoinScope(scope, "convs");
  std::vector<OnnxValue> branches;
  std::vector<torch::Tensor> examples;
  for (size_t i = 0; i < aspp.convs->size(); ++i) {
    branches.push_back(e.Emit(JoinScope(convs, std::to_string(i)), *aspp.convs->ptr(i), x));
    examples.push_back(branches.back().example);
  }
  OnnxValue cat = e.Op(JoinScope(scope, "cat"), "Concat", branches, torch::cat(examples, 1), {AttrInt("axis", 1)});
  e.Record(JoinScope(scope, "cat"), "Concat", nullptr, cat, 0);
  return e.Emit(JoinScope(scope, "project"), *aspp.project, cat);
}

OnnxValue EmitDeepLabHead(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& head = dynamic_cast<DeepLabHeadImpl&>(m);
  OnnxValue y = e.Emit(JoinScope(scope, "0"), *head.aspp, x);
  y = e.EmitConv(JoinScope(scope, "1"), *head.conv, head.bn.get(), JoinScope(scope, "2"), y);
  y = EmitActivation(e, JoinScope(scope, "3"), Activation::kReLU, y);
  return e.Emit(JoinScope(scope, "4"), *head.classifier, y);
}

OnnxValue EmitFCNHead(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& head = dynamic_cast<FCNHeadImpl&>(m);
  OnnxValue y = e.EmitConv(JoinScope(scope, "0"), *head.conv, head.bn.get(), JoinScope(scope, "1"), x);
  y = EmitActivation(e, JoinScope(scope, "2"), Activation::kReLU, y);
  return e.Emit(JoinScope(scope, "4"), *head.classifier, y);  // "3" dropout: nothing at inference.
}

OnnxValue EmitLRASPP(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& model = dynamic_cast<LRASPPImpl&>(m);
  const Features f = EmitBackbone(e, JoinScope(scope, "backbone"), *model.backbone, x);
  const OnnxValue& low = f.at("low");
  const OnnxValue& high = f.at("high");
  LRASPPHeadImpl& head = *model.classifier;
  const std::string hs = JoinScope(scope, "classifier");
  // x = cbr(high) * scale(high); resized to low's size; low_classifier(low) + high_classifier(x).
  const OnnxValue cbr = e.Emit(JoinScope(hs, "cbr"), *head.cbr, high);
  const OnnxValue gate = e.Emit(JoinScope(hs, "scale"), *head.scale, high);
  OnnxValue y = EmitBinary(e, JoinScope(hs, "gate"), "Mul", cbr, gate);
  y = e.ResizeBilinearLike(JoinScope(hs, "upsample"), y, low);
  const OnnxValue low_logits = e.Emit(JoinScope(hs, "low_classifier"), *head.low_classifier, low);
  const OnnxValue high_logits = e.Emit(JoinScope(hs, "high_classifier"), *head.high_classifier, y);
  y = EmitBinary(e, JoinScope(hs, "sum"), "Add", low_logits, high_logits);
  return e.ResizeBilinearLike(JoinScope(scope, "upsample"), y, x);
}

OnnxValue EmitSimpleSegmentationModel(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m,
                                      const OnnxValue& x) {
  auto& model = dynamic_cast<SimpleSegmentationModelImpl&>(m);
  const Features f = EmitBackbone(e, JoinScope(scope, "backbone"), *model.backbone, x);
  const OnnxValue logits = e.Emit(JoinScope(scope, "classifier"), *model.classifier, f.at("out"));
  return e.ResizeBilinearLike(JoinScope(scope, "upsample"), logits, x);
}

}  // namespace segtune
