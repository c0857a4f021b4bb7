#include "segtune/export/detection_onnx.h"

#include <torch/torch.h>

#include <map>

#include "segtune/core/error.h"
#include "segtune/export/emit_models.h"
#include "segtune/export/onnx_emitter.h"

namespace segtune {
namespace {

// F.interpolate(x, size=like's size, mode="nearest"): the FPN's top-down step. The transform pads
// images to multiples of 32, so a coarser level is either exactly half its finer neighbour (ResNet:
// a constant scale of 2 reproduces torch's nearest, asymmetric coordinates and floor, at any input
// size) or the same size (MobileNetV3's two stride-32 levels: nothing to do).
OnnxValue UpsampleNearestLike(OnnxEmitter& e, const std::string& scope, const OnnxValue& x, const OnnxValue& like) {
  const int64_t h = x.example.size(-2), w = x.example.size(-1);
  if (like.example.size(-2) == h && like.example.size(-1) == w) return x;
  if (like.example.size(-2) != 2 * h || like.example.size(-1) != 2 * w) {
    throw Error("ONNX export: FPN levels " + c10::str(x.example.sizes()) + " and " + c10::str(like.example.sizes()) +
                " are neither equal nor 2x apart (trace size not a multiple of 32?)");
  }
  const torch::Tensor example = torch::nn::functional::interpolate(
      x.example, torch::nn::functional::InterpolateFuncOptions()
                     .size(std::vector<int64_t>{2 * h, 2 * w})
                     .mode(torch::kNearest));
  const OnnxValue no_roi{"", {}, {}};
  const OnnxValue scales = e.Const(scope + "/scales", torch::tensor({1.0f, 1.0f, 2.0f, 2.0f}));
  OnnxValue y = e.Op(scope, "Resize", {x, no_roi, scales}, example,
                     {AttrString("mode", "nearest"), AttrString("coordinate_transformation_mode", "asymmetric"),
                      AttrString("nearest_mode", "floor")});
  e.Record(scope, "Upsample (nearest)", nullptr, y, 0);
  return y;
}

// torchvision's FeaturePyramidNetwork.forward with LastLevelMaxPool.
std::vector<std::pair<std::string, OnnxValue>> EmitFpn(OnnxEmitter& e, const std::string& scope,
                                                       detection::FeaturePyramidNetworkImpl& fpn,
                                                       const std::map<std::string, OnnxValue>& body) {
  std::vector<std::pair<std::string, OnnxValue>> in(body.begin(), body.end());  // "0", "1", ... finest first.
  const size_t n = in.size();
  if (n != fpn.inner_blocks->size()) throw Error("ONNX export: FPN expects " + std::to_string(fpn.inner_blocks->size()) + " levels");
  std::vector<OnnxValue> results(n);
  const auto inner = [&](size_t i) {
    return e.Emit(JoinScope(scope, "inner_blocks/" + std::to_string(i)), *fpn.inner_blocks->ptr(i), in[i].second);
  };
  const auto layer = [&](size_t i, const OnnxValue& x) {
    return e.Emit(JoinScope(scope, "layer_blocks/" + std::to_string(i)), *fpn.layer_blocks->ptr(i), x);
  };
  OnnxValue last_inner = inner(n - 1);
  results[n - 1] = layer(n - 1, last_inner);
  for (size_t i = n - 1; i-- > 0;) {
    const OnnxValue lateral = inner(i);
    const OnnxValue top_down = UpsampleNearestLike(e, JoinScope(scope, "upsample/" + std::to_string(i)), last_inner, lateral);
    last_inner = e.Binary(JoinScope(scope, "add/" + std::to_string(i)), "Add", lateral, top_down);
    results[i] = layer(i, last_inner);
  }
  std::vector<std::pair<std::string, OnnxValue>> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(in[i].first, results[i]);
  if (fpn.last_level_max_pool) {
    const OnnxValue& last = results[n - 1];
    const std::string pool_scope = JoinScope(scope, "extra_blocks");
    OnnxValue pool = e.Op(pool_scope, "MaxPool", {last}, torch::max_pool2d(last.example, {1, 1}, {2, 2}),
                          {AttrInts("kernel_shape", {1, 1}), AttrInts("strides", {2, 2})});
    e.Record(pool_scope, "MaxPool2d", nullptr, pool, 0);
    out.emplace_back("pool", pool);
  }
  return out;
}

}  // namespace

DetectionOnnxExport ExportDetectionFeaturesOnnx(detection::GeneralizedRCNNImpl& model,
                                                const std::vector<std::pair<std::string, std::string>>& metadata,
                                                std::pair<int64_t, int64_t> trace_size) {
  if (trace_size.first % 32 != 0 || trace_size.second % 32 != 0) throw Error("ONNX export: trace size must be multiples of 32");
  torch::NoGradGuard no_grad;
  model.eval();
  OnnxGraph graph("detector_features", /*dynamic=*/true);
  OnnxEmitter e(graph);
  const torch::Tensor example = torch::rand({1, 3, trace_size.first, trace_size.second},
                                            torch::Generator(at::detail::createCPUGenerator(7)));
  const OnnxValue images = graph.AddInput("images", example, onnx::TensorProto::FLOAT);
  const std::map<std::string, OnnxValue> body = EmitBackbone(e, "backbone/body", *model.backbone->body, images);
  const auto levels = EmitFpn(e, "backbone/fpn", *model.backbone->fpn, body);

  detection::RPNHeadImpl& head = *model.rpn->head;
  DetectionOnnxExport out;
  for (const auto& [name, feature] : levels) {
    OnnxValue t = feature;
    for (size_t i = 0; i < head.conv->size(); ++i) {
      t = e.Emit("rpn/head/conv/" + std::to_string(i) + "/level_" + name, *head.conv->ptr(i), t);
    }
    const OnnxValue objectness = e.Emit("rpn/head/cls_logits/level_" + name, *head.cls_logits, t);
    const OnnxValue deltas = e.Emit("rpn/head/bbox_pred/level_" + name, *head.bbox_pred, t);
    graph.AddOutput("features." + name, feature, {"N", "", "h", "w"});
    graph.AddOutput("objectness." + name, objectness, {"N", "", "h", "w"});
    graph.AddOutput("bbox_deltas." + name, deltas, {"N", "", "h", "w"});
    out.levels.push_back(name);
  }
  std::map<std::string, std::string> meta = {
      {"segtune_version", SEGTUNE_VERSION},
      {"input_name", "images"},
      {"input_layout", "NCHW RGB, normalized, resized and zero-padded to multiples of 32"},
      {"outputs", "features.<level>, objectness.<level>, bbox_deltas.<level> per FPN level"},
      {"postprocessing", "anchors, proposals + NMS, RoIAlign, box/mask heads: native (docs/detection.md)"},
  };
  for (const auto& [k, v] : metadata) meta[k] = v;
  out.model = graph.Finish(meta);
  out.layers = e.layers();
  return out;
}

}  // namespace segtune
