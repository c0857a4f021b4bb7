// Every model in the registry: the exported ONNX passes the ONNX checker, and ONNX Runtime (dynamic
// graph, several sizes) and OpenCV DNN (fixed graph) match segtune's own libtorch output.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "onnx_check_util.h"
#include "segtune/export/onnx_export.h"
#include "segtune/models/registry.h"

namespace segtune {
namespace {

using testing::TempDir;
constexpr int64_t kClasses = 4;

// A model with non-trivial BatchNorm statistics (so folding is exercised), in eval mode.
SegmentationModel MakeModel(const std::string& name) {
  torch::manual_seed(11);
  SegmentationModel model = CreateSegmentationModel(name, kClasses, /*aux_loss=*/false);
  torch::NoGradGuard no_grad;
  for (auto& b : model->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.1, 0.1);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
  }
  model->eval();
  return model;
}

torch::Tensor Reference(const SegmentationModel& model, const torch::Tensor& image01) {
  torch::NoGradGuard no_grad;
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  return model->forward((image01 - mean) / std).out;
}

void ExpectClose(const testing::SegOutputs& got, const torch::Tensor& expected, const std::string& what) {
  ASSERT_TRUE(got.logits.defined()) << what;
  ASSERT_EQ(got.logits.sizes(), expected.sizes()) << what;
  // Random-weight ResNet-101s produce logits in the thousands; float32 rounding then allows more
  // than 1e-3 absolute, so the bound is 1e-3 for logits up to 1 and relative (1e-3 * max |logit|) above.
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  EXPECT_LT(testing::MaxAbsDiff(got.logits, expected), 1e-3 * scale) << what << " (max |logit| " << scale << ")";
  EXPECT_GE(testing::FractionEqual(got.classes.reshape({expected.size(0), expected.size(2), expected.size(3)}),
                                   expected.argmax(1)),
            0.999)
      << what;
}

class ModelExport : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelExport, MatchesLibtorchInOnnxRuntimeAndOpenCvAndPassesChecker) {
  const std::string name = GetParam();
  const bool slow = name.find("resnet101") != std::string::npos;
  SegmentationModel model = MakeModel(name);
  TempDir dir;

  // Fixed graph: checker, then OpenCV DNN.
  OnnxExportOptions fixed;
  fixed.fixed_size = {{64, 48}};
  const auto fixed_path = dir / "fixed.onnx";
  WriteOnnx(ExportOnnx(*model, fixed).model, fixed_path);
  EXPECT_EQ(testing::CheckOnnx(fixed_path), "");
  const torch::Tensor image = torch::rand({1, 3, 64, 48});
  ExpectClose(testing::RunOpenCv(fixed_path, image), Reference(model, image), name + " OpenCV DNN 64x48");

  // Dynamic graph: checker, then ONNX Runtime at several sizes (one for the slow ResNet-101s).
  const auto dynamic_path = dir / "dynamic.onnx";
  WriteOnnx(ExportOnnx(*model, {}).model, dynamic_path);
  EXPECT_EQ(testing::CheckOnnx(dynamic_path), "");
  if (!testing::OrtAvailable()) GTEST_SKIP() << "ONNX Runtime part not run: " << testing::kOrtMissing;
  {
    std::vector<std::pair<int64_t, int64_t>> sizes = {{64, 64}};
    if (!slow) sizes.push_back({96, 80});
    for (auto [h, w] : sizes) {
      const torch::Tensor image = torch::rand({1, 3, h, w});
      ExpectClose(testing::RunOrt(dynamic_path, image, kClasses, dir.path()), Reference(model, image),
                  name + " onnxruntime " + std::to_string(h) + "x" + std::to_string(w));
    }
  }

}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& info : ListModels()) names.push_back(info.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registry, ModelExport, ::testing::ValuesIn(ModelNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace segtune
