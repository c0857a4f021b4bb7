// The ONNX builder and standard emitters on a small model built here: checker, ONNX Runtime and
// OpenCV DNN agree with libtorch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "onnx_check_util.h"
#include "segtune/core/error.h"
#include "segtune/export/emit_standard.h"
#include "segtune/export/onnx_export.h"

namespace segtune {
namespace {

using testing::TempDir;

struct ToyHardsigmoidImpl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return torch::hardsigmoid(x); }
};
TORCH_MODULE(ToyHardsigmoid);
struct ToyHardswishImpl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return torch::hardswish(x); }
};
TORCH_MODULE(ToyHardswish);

// Conv-BN-act body, a squeeze-excitation style gate, a classifier, and a bilinear upsample back to
// the input size: the operator mix of the LR-ASPP and DeepLabV3 heads.
struct ToySegImpl : torch::nn::Module {
  torch::nn::Sequential body{torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).stride(2).padding(1).bias(false)),
                             torch::nn::BatchNorm2d(8), ToyHardswish(),
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 3).stride(2).padding(2).dilation(2).groups(8)),
                             torch::nn::BatchNorm2d(8), torch::nn::ReLU(), torch::nn::Dropout(0.1)};
  torch::nn::Sequential gate{torch::nn::AdaptiveAvgPool2d(1), torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 1)),
                             ToyHardsigmoid()};
  torch::nn::Sequential sigmoid_branch{torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 1)), torch::nn::Sigmoid()};
  torch::nn::Conv2d classifier{torch::nn::Conv2dOptions(8, 5, 1)};

  ToySegImpl() {
    register_module("body", body);
    register_module("gate", gate);
    register_module("sigmoid_branch", sigmoid_branch);
    register_module("classifier", classifier);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor f = body->forward(x);
    f = f * gate->forward(f) + sigmoid_branch->forward(f);
    const torch::Tensor y = classifier->forward(f);
    namespace F = torch::nn::functional;
    return F::interpolate(y, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  }
};
TORCH_MODULE(ToySeg);

OnnxValue EmitToySeg(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x) {
  auto& toy = dynamic_cast<ToySegImpl&>(m);
  OnnxValue f = e.Emit(JoinScope(scope, "body"), *toy.body, x);
  const OnnxValue g = e.Emit(JoinScope(scope, "gate"), *toy.gate, f);
  const OnnxValue s = e.Emit(JoinScope(scope, "sigmoid_branch"), *toy.sigmoid_branch, f);
  f = e.Binary("mul", "Mul", f, g);
  f = e.Binary("add", "Add", f, s);
  const OnnxValue y = e.Emit("classifier", *toy.classifier, f);
  return e.ResizeBilinearLike("upsample", y, x);
}

void RegisterToyEmitters() {
  RegisterOnnxEmitter(typeid(ToySegImpl), EmitToySeg);
  RegisterOnnxEmitter(typeid(ToyHardswishImpl), EmitHardswishOp);
  RegisterOnnxEmitter(typeid(ToyHardsigmoidImpl), EmitHardsigmoidOp);
}

// A toy model whose BatchNorms have non-trivial statistics, so folding them matters.
ToySeg MakeToy() {
  torch::manual_seed(3);
  ToySeg toy;
  torch::NoGradGuard no_grad;
  for (auto& buffer : toy->named_buffers()) {
    if (buffer.key().find("running_mean") != std::string::npos) buffer.value().uniform_(-0.5, 0.5);
    if (buffer.key().find("running_var") != std::string::npos) buffer.value().uniform_(0.5, 2.0);
  }
  for (auto& p : toy->named_parameters()) {
    if (p.key().find("body.1.") == 0 || p.key().find("body.4.") == 0) p.value().uniform_(0.5, 1.5);
  }
  toy->eval();
  RegisterToyEmitters();
  return toy;
}

torch::Tensor Reference(ToySeg& toy, const torch::Tensor& image01) {
  torch::NoGradGuard no_grad;
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  return toy->forward((image01 - mean) / std);
}

std::filesystem::path ExportToy(ToySeg& toy, const TempDir& dir, const std::string& name, OnnxExportOptions o) {
  const auto path = dir / name;
  WriteOnnx(ExportOnnx(*toy, o).model, path);
  return path;
}

TEST(OnnxExport, DynamicAndFixedToyModelsPassOnnxChecker) {
  ToySeg toy = MakeToy();
  TempDir dir;
  OnnxExportOptions dynamic;
  EXPECT_EQ(testing::CheckOnnx(ExportToy(toy, dir, "dynamic.onnx", dynamic)), "");
  OnnxExportOptions fixed;
  fixed.fixed_size = {{40, 56}};
  fixed.input_type = OnnxInputType::kUint8;
  EXPECT_EQ(testing::CheckOnnx(ExportToy(toy, dir, "fixed.onnx", fixed)), "");
}

TEST(OnnxExport, FoldsBatchNormAndEmitsNoIdentityNodes) {
  ToySeg toy = MakeToy();
  const onnx::ModelProto model = ExportOnnx(*toy, {}).model;
  std::map<std::string, int> ops;
  for (const auto& node : model.graph().node()) ops[node.op_type()]++;
  EXPECT_EQ(ops.count("BatchNormalization"), 0u);
  EXPECT_EQ(ops.count("Identity"), 0u);
  EXPECT_EQ(ops.count("Dropout"), 0u);
  EXPECT_EQ(ops["Conv"], 5);
  EXPECT_EQ(ops["HardSwish"], 1);
  EXPECT_EQ(ops["HardSigmoid"], 1);
  EXPECT_EQ(ops["ArgMax"], 1);
  EXPECT_EQ(model.ir_version(), 8);
  EXPECT_EQ(model.opset_import(0).version(), 17);
  // Every intermediate value has a declared type and rank.
  EXPECT_EQ(model.graph().value_info_size() + 2, model.graph().node_size());
}

TEST(OnnxExport, DynamicToyModelMatchesLibtorchInOnnxRuntimeAtSeveralSizes) {
  SEGTUNE_REQUIRE_TEST_DEPENDENCY(testing::OrtAvailable(), testing::kOrtMissing);
  ToySeg toy = MakeToy();
  TempDir dir;
  const auto path = ExportToy(toy, dir, "dynamic.onnx", {});
  for (auto [n, h, w] : {std::tuple{1, 64, 64}, std::tuple{2, 96, 80}, std::tuple{1, 33, 47}}) {
    const torch::Tensor image = torch::rand({n, 3, h, w});
    const torch::Tensor expected = Reference(toy, image);
    const testing::SegOutputs ort = testing::RunOrt(path, image, 5, dir.path());
    ASSERT_TRUE(ort.logits.defined());
    EXPECT_LT(testing::ReportMeasured("toy onnx dynamic " + std::to_string(h) + "x" + std::to_string(w),
                                      testing::MaxAbsDiff(ort.logits, expected), 1e-4),
              1e-4)
        << h << "x" << w;
    EXPECT_GE(testing::FractionEqual(ort.classes, expected.argmax(1)), 0.999) << h << "x" << w;
  }
}

TEST(OnnxExport, Uint8InputMatchesFloatInputScaledBy255) {
  SEGTUNE_REQUIRE_TEST_DEPENDENCY(testing::OrtAvailable(), testing::kOrtMissing);
  ToySeg toy = MakeToy();
  TempDir dir;
  OnnxExportOptions o;
  o.input_type = OnnxInputType::kUint8;
  const auto path = ExportToy(toy, dir, "uint8.onnx", o);
  const torch::Tensor pixels = torch::randint(0, 256, {1, 3, 48, 40}, torch::kUInt8);
  const torch::Tensor expected = Reference(toy, pixels.to(torch::kFloat32) / 255.0);
  const testing::SegOutputs ort = testing::RunOrt(path, pixels, 5, dir.path());
  ASSERT_TRUE(ort.logits.defined());
  EXPECT_LT(testing::ReportMeasured("toy onnx uint8", testing::MaxAbsDiff(ort.logits, expected), 1e-4), 1e-4);
}

TEST(OnnxExport, FixedToyModelMatchesLibtorchInOpenCvDnn) {
  ToySeg toy = MakeToy();
  TempDir dir;
  OnnxExportOptions o;
  o.fixed_size = {{64, 48}};
  const auto path = ExportToy(toy, dir, "fixed.onnx", o);
  const torch::Tensor image = torch::rand({1, 3, 64, 48});
  const torch::Tensor expected = Reference(toy, image);
  const testing::SegOutputs cv = testing::RunOpenCv(path, image);
  ASSERT_EQ(cv.logits.sizes(), expected.sizes());
  EXPECT_LT(testing::ReportMeasured("toy opencv fixed", testing::MaxAbsDiff(cv.logits, expected), 1e-4), 1e-4);
  EXPECT_GE(testing::FractionEqual(cv.classes.reshape({1, 64, 48}), expected.argmax(1)), 0.999);
}

TEST(OnnxExport, ModuleWithoutOnnxFormNamesItsScopeAndType) {
  torch::nn::Sequential model(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 1)),
                              torch::nn::Functional([](const torch::Tensor& x) { return x; }));
  try {
    ExportOnnx(*model, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Functional"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace segtune
