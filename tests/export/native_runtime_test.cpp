// The LibTorch-free runtime (runtime/native_semantic_model.h) against the LibTorch path it replaces in
// `segtune infer`: the same registry model, BatchNorm statistics calibrated (so folding matters), its
// state dict written as a bundle's model.safetensors, then the head logits of both on the same input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "calibrated_model.h"
#include "segtune/core/atomic_file.h"
#include "segtune/export/bundle.h"
#include "segtune/export/export_model.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"
#include "segtune/runtime/native_semantic_model.h"
#include "segtune/runtime/nhwc_ops.h"
#include "test_util.h"

namespace segtune {
namespace {

// The model's state dict as model.safetensors holds it (export/bundle.h StateDictOf).
void SaveStateDict(torch::nn::Module& model, const std::filesystem::path& path) {
  SaveSafetensors(StateDictOf(model), path);
}

class NativeRuntimeParity : public ::testing::TestWithParam<const char*> {};

TEST_P(NativeRuntimeParity, HeadLogitsEqualTheLibTorchPath) {
  torch::manual_seed(11);
  const int64_t classes = 5;
  SemanticModel model = CreateSemanticModel(GetParam(), classes, false);
  testing::CalibrateBatchNorm(*model);
  testing::TempDir dir;
  SaveStateDict(*model, dir / "model.safetensors");
  const NativeSemanticModel native(GetParam(), classes, StateDict::Load(dir / "model.safetensors"));

  // Two images of an odd size: the strided layers' rounding and the head's resize are exercised.
  const torch::Tensor x = testing::NormalizeImageNet(torch::rand({2, 3, 83, 121}));
  PrepareForInference(*model, torch::kCPU);
  torch::Tensor expected;
  {
    c10::InferenceMode inference;
    expected = HeadLogits(*model, x.contiguous(torch::MemoryFormat::ChannelsLast)).contiguous();  // NCHW.
  }
  Workspace workspace;
  NhwcTensor input = workspace.Take(2, 83, 121, 3);
  NchwToNhwc(x.contiguous().data_ptr<float>(), input);
  const NhwcTensor logits = native.HeadLogits(std::move(input), workspace);
  ASSERT_EQ(logits.n, expected.size(0));
  ASSERT_EQ(logits.c, expected.size(1));
  ASSERT_EQ(logits.h, expected.size(2));
  ASSERT_EQ(logits.w, expected.size(3));
  const torch::Tensor got =
      torch::from_blob(logits.data(), {logits.n, logits.h, logits.w, logits.c}).permute({0, 3, 1, 2}).contiguous();
  const double scale = expected.abs().max().item<double>();
  EXPECT_GT(scale, 0.1);  // Not a degenerate all-zero output.
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-3 * std::max(1.0, scale));
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1)));
}

INSTANTIATE_TEST_SUITE_P(Models, NativeRuntimeParity,
                         ::testing::Values("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"));

TEST(NativeRuntime, RefusesWeightsOfAnotherArchitecture) {
  torch::manual_seed(3);
  SemanticModel model = CreateSemanticModel("lraspp_mobilenet_v3_large", 3, false);
  testing::TempDir dir;
  SaveStateDict(*model, dir / "model.safetensors");
  const StateDict dict = StateDict::Load(dir / "model.safetensors");
  try {
    NativeSemanticModel("deeplabv3_mobilenet_v3_large", 3, dict);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("classifier.0.convs.0.0.weight"), std::string::npos) << e.what();
  }
  EXPECT_THROW(NativeSemanticModel("fcn_resnet50", 3, dict), UsageError);
}

// `segtune infer` on an LR-ASPP export: the infer plugin runs it without loading LibTorch, and its masks
// are the bytes `--engine torch` writes (LibTorch plugin).
TEST(NativeRuntime, InferRunsWithoutLibTorchAndWritesTheLibTorchPathsMasks) {
  torch::manual_seed(7);
  SemanticModel model = CreateSemanticModel("lraspp_mobilenet_v3_large", 4, false);
  testing::CalibrateBatchNorm(*model);
  testing::TempDir dir;
  SaveStateDict(*model, dir / "ckpt.safetensors");
  ExportOptions e;
  e.model_name = "lraspp_mobilenet_v3_large";
  e.checkpoint = dir / "ckpt.safetensors";
  e.output_dir = dir / "model";
  ExportModel(e);
  std::filesystem::create_directories(dir / "images");
  cv::Mat image(70, 90, CV_8UC3);
  cv::randu(image, 0, 255);
  ASSERT_TRUE(cv::imwrite((dir / "images" / "a.png").string(), image));
  cv::randu(image, 0, 255);
  ASSERT_TRUE(cv::imwrite((dir / "images" / "b.png").string(), image(cv::Rect(0, 0, 64, 48))));
  const auto infer = [&](const std::string& engine) {
    return testing::RunSegtune("-v infer --engine " + engine + " --model '" + (dir / "model").string() +
                               "' --input '" + (dir / "images").string() + "' --masks-dir '" +
                               (dir / ("masks-" + engine)).string() + "'");
  };
  const auto native = infer("onednn");
  ASSERT_EQ(native.exit_code, 0) << native.output;
  EXPECT_NE(native.output.find("LibTorch-free runtime"), std::string::npos) << native.output;
  EXPECT_EQ(native.output.find("libsegtune_plugin.so"), std::string::npos) << native.output;
  const auto torch_run = infer("torch");
  ASSERT_EQ(torch_run.exit_code, 0) << torch_run.output;
  EXPECT_NE(torch_run.output.find("not for this run (--engine torch)"), std::string::npos) << torch_run.output;
  EXPECT_NE(torch_run.output.find("libsegtune_plugin.so"), std::string::npos) << torch_run.output;
  for (const char* mask : {"a.png", "b.png"}) {
    const std::string ours = ReadFile(dir / "masks-onednn" / mask);
    EXPECT_FALSE(ours.empty()) << mask;
    EXPECT_EQ(ours, ReadFile(dir / "masks-torch" / mask)) << mask;
  }
}

}  // namespace
}  // namespace segtune
