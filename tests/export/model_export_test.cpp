// Every model in the registry: the exported ONNX passes the ONNX checker, and ONNX Runtime (dynamic
// graph, several sizes) and OpenCV DNN (fixed graph) match segtune's own libtorch output.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "calibrated_model.h"
#include "onnx_check_util.h"
#include "segtune/export/onnx_export.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {
namespace {

using testing::TempDir;
constexpr int64_t kClasses = 4;

// A model with realistic BatchNorm statistics (calibrated_model.h), in eval mode.
SemanticModel MakeModel(const std::string& name) {
  torch::manual_seed(11);
  SemanticModel model = CreateSemanticModel(name, kClasses, /*aux_loss=*/false);
  testing::CalibrateBatchNorm(*model);
  return model;
}

// segtune's own libtorch model, evaluated in double precision: the exact output the float graphs
// approximate. Against a float libtorch run, the two float roundings (oneDNN's and ONNX Runtime's
// summation orders) add up to ~1e-3 over ResNet-101's hundred layers at logits ~5 (measured).

// ONNX Runtime's and OpenCV's float graphs against the double reference. Worst measured (docs/testing.md):
// 7.2e-4 (fcn/deeplabv3_resnet101, ONNX Runtime 96x80, logits up to ~5), 1.5e-4 (OpenCV DNN). Neither
// runtime's kernels can be switched to another instruction set here (oneDNN's and ATen's settings do not
// reach them; OPENCV_CPU_DISABLE=AVX2,FMA3 changed nothing), so the bound leaves 2.8x for another CPU's
// summation order; a wrong operation moves logits by far more, and the class maps must agree on 99.9%.
constexpr double kLogitBound = 2e-3;
SemanticModel DoubleModel(const std::string& name) {
  SemanticModel model = MakeModel(name);
  model->to(torch::kDouble);
  return model;
}

torch::Tensor Reference(const SemanticModel& model, const torch::Tensor& image01) {
  c10::InferenceMode inference_mode;
  return model->forward(testing::NormalizeImageNet(image01).to(torch::kDouble)).out.to(torch::kFloat);
}

void ExpectClose(const testing::SegOutputs& got, const torch::Tensor& expected, const std::string& what) {
  ASSERT_TRUE(got.logits.defined()) << what;
  ASSERT_EQ(got.logits.sizes(), expected.sizes()) << what;
  const double max_logit = expected.abs().max().item<double>();
  EXPECT_LT(max_logit, 100) << what << ": the calibrated fixture should give moderate logits";
  EXPECT_LT(testing::ReportMeasured(what + " logits", testing::MaxAbsDiff(got.logits, expected), kLogitBound),
            kLogitBound)
      << what << " (max |logit| " << max_logit << ")";
  EXPECT_GE(testing::FractionEqual(got.classes.reshape({expected.size(0), expected.size(2), expected.size(3)}),
                                   expected.argmax(1)),
            0.999)
      << what;
}

class ModelExport : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelExport, MatchesLibtorchInOnnxRuntimeAndOpenCvAndPassesChecker) {
  const std::string name = GetParam();
  SemanticModel model = MakeModel(name);
  const SemanticModel reference = DoubleModel(name);
  TempDir dir;

  // Fixed graph: checker, then OpenCV DNN.
  OnnxExportOptions fixed;
  fixed.fixed_size = {{64, 48}};
  const auto fixed_path = dir / "fixed.onnx";
  WriteOnnx(ExportOnnx(*model, fixed).model, fixed_path);
  EXPECT_EQ(testing::CheckOnnx(fixed_path), "");
  const torch::Tensor image = torch::rand({1, 3, 64, 48});
  ExpectClose(testing::RunOpenCv(fixed_path, image), Reference(reference, image), name + " OpenCV DNN 64x48");

  // Dynamic graph: checker, then ONNX Runtime at several sizes (one ONNX Runtime run per size).
  const auto dynamic_path = dir / "dynamic.onnx";
  WriteOnnx(ExportOnnx(*model, {}).model, dynamic_path);
  EXPECT_EQ(testing::CheckOnnx(dynamic_path), "");
  SEGTUNE_REQUIRE_TEST_DEPENDENCY(testing::OrtAvailable(), std::string("ONNX Runtime part not run: ") + testing::kOrtMissing);
  {
    const std::vector<std::pair<int64_t, int64_t>> sizes = {{64, 64}, {96, 80}};
    for (auto [h, w] : sizes) {
      const torch::Tensor image = torch::rand({1, 3, h, w});
      ExpectClose(testing::RunOrt(dynamic_path, image, kClasses, dir.path()), Reference(reference, image),
                  name + " onnxruntime " + std::to_string(h) + "x" + std::to_string(w));
    }
  }
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& info : ListSemanticModels()) names.push_back(info.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registry, ModelExport, ::testing::ValuesIn(ModelNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace segtune
