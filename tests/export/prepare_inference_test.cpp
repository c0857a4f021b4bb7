// PrepareForInference / FoldBatchNormInPlace: every BatchNorm of every registry model is folded into
// its convolution and skipped by forward(), and the prepared model computes the same logits.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "calibrated_model.h"
#include "segtune/export/bn_fold.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/models/layers.h"
#include "segtune/models/semantic_registry.h"
#include "test_util.h"

namespace segtune {
namespace {

int CountBatchNorms(torch::nn::Module& model) {
  int count = 0;
  for (const auto& module : model.modules()) count += module->as<torch::nn::BatchNorm2dImpl>() != nullptr;
  return count;
}

TEST(FoldableBatchNorm2d, IsBatchNorm2dUntilFoldedThenReturnsItsInput) {
  torch::manual_seed(3);
  FoldableBatchNorm2d bn = MakeBatchNorm(4, {});
  torch::nn::BatchNorm2d plain(torch::nn::BatchNorm2dOptions(4));
  torch::NoGradGuard no_grad;
  bn->running_mean.uniform_(-1, 1);
  plain->running_mean.copy_(bn->running_mean);
  bn->eval();
  plain->eval();
  const torch::Tensor x = torch::randn({2, 4, 5, 5});
  EXPECT_TRUE(torch::equal(bn->forward(x), plain->forward(x)));
  bn->Fold();
  EXPECT_TRUE(bn->folded());
  EXPECT_TRUE(bn->forward(x).is_same(x));
  // Through the base class (as the ONNX emitter calls it) the folded module is the identity too.
  EXPECT_LT((static_cast<torch::nn::BatchNorm2dImpl&>(*bn).forward(x) - x).abs().max().item<double>(), 1e-6);
}

TEST(FoldBatchNorm, FoldsEveryBatchNormOfEveryRegistryModel) {
  for (const auto& info : ListSemanticModels()) {
    SemanticModel model = CreateSemanticModel(info.name, 3, info.supports_aux);
    model->eval();
    const int batch_norms = CountBatchNorms(*model);
    EXPECT_GT(batch_norms, 10) << info.name;
    EXPECT_EQ(FoldBatchNormInPlace(*model), batch_norms) << info.name;
    for (const auto& module : model->modules()) {
      if (auto* bn = module->as<FoldableBatchNorm2dImpl>()) EXPECT_TRUE(bn->folded()) << info.name;
    }
    EXPECT_EQ(FoldBatchNormInPlace(*model), 0) << info.name << ": folding twice";
  }
}

// Folding keeps the model's dtype: a float64 model folds to float64 weights and still runs (it once
// wrote float32 weights, which a float64 input then could not use).
TEST(FoldBatchNorm, Float64ModelStaysFloat64AndMatchesItsUnfoldedOutput) {
  torch::manual_seed(5);
  SemanticModel model = CreateSemanticModel("lraspp_mobilenet_v3_large", 3, false);
  testing::CalibrateBatchNorm(*model);
  model->to(torch::kFloat64);
  model->eval();
  const torch::Tensor x = testing::NormalizeImageNet(torch::rand({1, 3, 64, 48})).to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  const torch::Tensor expected = model->forward(x).out;
  EXPECT_GT(FoldBatchNormInPlace(*model), 10);
  for (const auto& p : model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat64);
  const torch::Tensor got = model->forward(x).out;
  EXPECT_EQ(got.scalar_type(), torch::kFloat64);
  // In float64 the fold's rounding is ~1e-13; float32 weights would leave ~1e-6.
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-9);
}

class PrepareForInferenceParity : public ::testing::TestWithParam<std::string> {};

TEST_P(PrepareForInferenceParity, PreparedModelMatchesEagerEvalOutput) {
  torch::manual_seed(21);
  SemanticModel model = CreateSemanticModel(GetParam(), 4, FindSemanticModelInfo(GetParam()).supports_aux);
  testing::CalibrateBatchNorm(*model);
  const torch::Tensor x = testing::NormalizeImageNet(torch::rand({2, 3, 72, 56}));
  SemanticOutput expected;
  {
    torch::NoGradGuard no_grad;
    expected = model->forward(x);
  }
  const InferencePreparation done = PrepareForInference(*model, torch::kCPU);
  EXPECT_EQ(done.folded_batch_norms, CountBatchNorms(*model));
  EXPECT_TRUE(done.channels_last);
  EXPECT_TRUE(model->channels_last());
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.requires_grad());
  c10::InferenceMode inference;
  const SemanticOutput got = model->forward(x);
  ASSERT_EQ(got.out.sizes(), expected.out.sizes());
  EXPECT_TRUE(got.out.is_contiguous());
  // Folded weights round differently from conv-then-BN (~1e-4 after ResNet-50's 53 layers); 1e-3 is the
  // bound the export parity tests use too.
  EXPECT_LT(testing::ReportMeasured("prepared logits", (got.out - expected.out).abs().max().item<double>(), 1e-3), 1e-3)
      << "max |logit| " << expected.out.abs().max().item<double>();
  EXPECT_GE(got.out.argmax(1).eq(expected.out.argmax(1)).to(torch::kFloat64).mean().item<double>(), 0.999);
  if (expected.aux.defined()) EXPECT_LT((got.aux - expected.aux).abs().max().item<double>(), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Models, PrepareForInferenceParity,
                         ::testing::Values("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large",
                                           "fcn_resnet50"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace segtune
