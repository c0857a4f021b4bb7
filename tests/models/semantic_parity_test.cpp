// Parity of every segmentation model with torchvision 0.14: the same state_dict names and shapes,
// the same eval-mode logits for a checkpoint saved by torch.save (OrderedDict .pth) and as
// .safetensors, and the same train-mode loss, gradients and BatchNorm running statistics.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "segmentation_reference.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"

namespace segtune {
namespace {

using testing::CopyExactly;
using testing::kReferenceClasses;
using testing::LoadReferenceTensors;
using testing::MaxAbsDiff;
using testing::ReferenceFiles;
using testing::ReportMeasured;

// Bounds: margins over the worst case measured across DNNL_MAX_CPU_ISA=SSE41|AVX|AVX2|AVX512_CORE|
// AVX512_CORE_BF16 and ATEN_CPU_CAPABILITY=default|avx2 (tools/parity_spread.sh), worst case next to each.
// Measured 0 everywhere (SSE41, AVX, AVX2, AVX512_CORE, native AVX-512, ATen default and avx2): at these
// sizes segtune and torchvision run the same kernels in the same order, bit for bit.
constexpr double kLogitTolerance = 1e-4;       // Absolute, 64x64 input. Measured: 0.
constexpr double kLossTolerance = 1e-4;        // Absolute. Measured: 0.
constexpr double kGradientRtol = 1e-3;         // With kGradientAtol x max |gradient|: as torch.allclose.
constexpr double kGradientAtol = 1e-4;         // Measured: allclose ratio 0 (<= 1 passes).
constexpr double kStatisticsTolerance = 1e-5;  // BatchNorm running means. Measured: 0.

class SemanticParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_EQ(ReferenceFiles::Get().error(), "");
    const std::string& name = GetParam();
    model_ = CreateSemanticModel(name, kReferenceClasses, FindSemanticModelInfo(name).supports_aux);
    ref_ = LoadReferenceTensors(ReferenceFiles::Get().Path(name, ".ref.pt"));
  }

  // Loads `file` through LoadWeights and checks the eval-mode outputs against torchvision's.
  void ExpectEvalOutputMatches(const std::filesystem::path& file) {
    ASSERT_EQ(CopyExactly(*model_, LoadWeights(file)), "") << file;
    model_->eval();
    torch::NoGradGuard no_grad;
    const SemanticOutput result = model_->forward(ref_.at("input"));
    ASSERT_EQ(result.out.sizes(), ref_.at("out").sizes());
    EXPECT_LT(ReportMeasured(GetParam() + " eval logits", MaxAbsDiff(result.out, ref_.at("out")), kLogitTolerance),
              kLogitTolerance)
        << "max |ref| " << ref_.at("out").abs().max().item<double>();
    if (ref_.count("aux")) {
      ASSERT_TRUE(result.aux.defined());
      EXPECT_LT(ReportMeasured(GetParam() + " eval aux logits", MaxAbsDiff(result.aux, ref_.at("aux")), kLogitTolerance),
                kLogitTolerance);
    } else {
      EXPECT_FALSE(result.aux.defined());
    }
  }

  SemanticModel model_;
  std::map<std::string, torch::Tensor> ref_;
};

TEST_P(SemanticParity, LoadsTorchvisionPthAndMatchesEvalOutput) {
  ExpectEvalOutputMatches(ReferenceFiles::Get().Path(GetParam(), ".pth"));
}

TEST_P(SemanticParity, LoadsSafetensorsAndMatchesEvalOutput) {
  ExpectEvalOutputMatches(ReferenceFiles::Get().Path(GetParam(), ".safetensors"));
}

// Issue 20: the model as `segtune infer` runs it (BatchNorm folded, channels-last, every convolution in the
// oneDNN engine) against torchvision's eval output on torchvision's own (BatchNorm-randomized) weights.
// Folding and the kernels' summation orders move the logits; 1e-3 as the engine's own parity test.
TEST_P(SemanticParity, PreparedWithOneDnnEngineMatchesTorchvisionEvalOutput) {
  ASSERT_EQ(CopyExactly(*model_, LoadWeights(ReferenceFiles::Get().Path(GetParam(), ".pth"))), "");
  const InferencePreparation done = PrepareForInference(*model_, torch::kCPU);
  ASSERT_EQ(done.engine, InferenceEngine::kOneDnn);
  EXPECT_TRUE(done.fallbacks.empty()) << DescribePreparation(done, true);
  c10::InferenceMode inference;
  const torch::Tensor out = model_->forward(ref_.at("input")).out;
  EXPECT_LT(ReportMeasured(GetParam() + " prepared onednn logits", MaxAbsDiff(out, ref_.at("out")), 1e-3), 1e-3)
      << "max |ref| " << ref_.at("out").abs().max().item<double>();
  EXPECT_GE(out.argmax(1).eq(ref_.at("out").argmax(1)).to(torch::kFloat64).mean().item<double>(), 0.999);
}

TEST_P(SemanticParity, TrainStepMatchesTorchvisionGradients) {
  ASSERT_EQ(CopyExactly(*model_, LoadWeights(ReferenceFiles::Get().Path(GetParam(), ".pth"))), "");
  model_->train();
  for (const auto& module : model_->modules()) {  // Dropout is random; the reference disables it too.
    if (auto* dropout = module->as<torch::nn::DropoutImpl>()) dropout->eval();
  }
  const SemanticOutput result = model_->forward(ref_.at("train_input"));
  const torch::Tensor target = ref_.at("train_target");
  torch::Tensor loss = torch::nn::functional::cross_entropy(result.out, target);
  if (result.aux.defined()) loss = loss + 0.5 * torch::nn::functional::cross_entropy(result.aux, target);
  loss.backward();
  const double loss_diff = std::abs(loss.item<double>() - ref_.at("train_loss").item<double>());
  EXPECT_LE(ReportMeasured(GetParam() + " train loss", loss_diff, kLossTolerance), kLossTolerance);

  const auto params = model_->named_parameters();
  const auto buffers = model_->named_buffers();
  int compared = 0;
  for (const auto& [key, expected] : ref_) {
    if (key.rfind("grad/", 0) == 0) {
      const torch::Tensor grad = params[key.substr(5)].grad();
      ASSERT_TRUE(grad.defined()) << key;
      const double scale = expected.abs().max().item<double>();
      // torch::allclose(grad, expected, rtol, atol * scale) as a ratio: <= 1 passes.
      const double ratio = ((grad - expected).abs() / (kGradientAtol * scale + kGradientRtol * expected.abs()))
                               .max()
                               .item<double>();
      EXPECT_LE(ReportMeasured(GetParam() + " gradient/allclose-ratio " + key.substr(5), ratio, 1.0), 1.0)
          << key << ": max diff " << MaxAbsDiff(grad, expected) << ", max |grad| " << scale;
      ++compared;
    } else if (key.rfind("running_mean/", 0) == 0) {
      const double diff = MaxAbsDiff(buffers[key.substr(13)], expected);
      EXPECT_LT(ReportMeasured(GetParam() + " running mean " + key.substr(13), diff, kStatisticsTolerance),
                kStatisticsTolerance)
          << key;
    }
  }
  EXPECT_GE(compared, 4);
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& info : ListSemanticModels()) names.push_back(info.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllModels, SemanticParity, ::testing::ValuesIn(ModelNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace segtune
