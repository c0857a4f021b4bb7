// MobileNetV3-Large backbone: block attributes the exporter reads, output strides of the dilated
// segmentation variant, torchvision's initialisation, and channels-last equivalence.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {
namespace {

TEST(MobileNetV3, MakeDivisibleRoundsLikeTorchvision) {
  // torchvision _make_divisible(v, 8): nearest multiple of 8, never below 90% of v.
  EXPECT_EQ(MakeDivisible(72 / 4, 8), 24);   // 18 -> 24 (16 would be below 0.9 * 18).
  EXPECT_EQ(MakeDivisible(120 / 4, 8), 32);  // 30 -> 32.
  EXPECT_EQ(MakeDivisible(960 / 4, 8), 240);
  EXPECT_EQ(MakeDivisible(3, 8), 8);         // Never below the divisor.
}

TEST(MobileNetV3, StageIndicesAreTorchvisionsStridedBlocks) {
  MobileNetV3LargeBackbone backbone(/*dilated=*/true);
  EXPECT_EQ(backbone->StageIndices(), (std::vector<int>{0, 2, 4, 7, 13, 16}));
  EXPECT_EQ(backbone->OutChannels(4), 40);
  EXPECT_EQ(backbone->OutChannels(16), 960);
}

TEST(MobileNetV3, BlocksExposeTheirHyperParameters) {
  MobileNetV3LargeBackbone backbone(/*dilated=*/true);
  const InvertedResidual& first = backbone->blocks[0];  // 16 -> 16, no expansion: residual, no expand conv.
  EXPECT_TRUE(first->use_res_connect);
  EXPECT_FALSE(first->expand);
  EXPECT_EQ(first->activation, Activation::kReLU);
  const InvertedResidual& c2 = backbone->blocks[3];  // 24 -> 40, k5, SE, stride 2.
  EXPECT_TRUE(c2->is_cn);
  ASSERT_TRUE(c2->se);
  EXPECT_EQ(c2->se->squeeze_channels, 24);
  EXPECT_EQ(c2->se->scale_activation, Activation::kHardsigmoid);
  EXPECT_EQ(c2->depthwise->options.stride, 2);
  EXPECT_EQ(c2->depthwise->padding, 2);
  const InvertedResidual& c4 = backbone->blocks[12];  // Dilated stage: stride replaced by dilation 2.
  EXPECT_EQ(c4->depthwise->options.stride, 1);
  EXPECT_EQ(c4->depthwise->options.dilation, 2);
  EXPECT_EQ(c4->depthwise->padding, 4);
  EXPECT_EQ(c4->activation, Activation::kHardswish);
  EXPECT_EQ(backbone->stem->bn->options.eps(), 1e-3);
  EXPECT_EQ(backbone->stem->bn->options.momentum(), 0.01);
}

TEST(MobileNetV3, DilatedBackboneHasOutputStride16AndLowFeaturesAt8) {
  MobileNetV3LargeBackbone backbone(/*dilated=*/true);
  backbone->set_return_layers({{"4", "low"}, {"16", "high"}});
  backbone->eval();
  torch::NoGradGuard no_grad;
  const FeatureMap features = backbone->forward(torch::randn({1, 3, 64, 64}));
  EXPECT_EQ(features.at("low").sizes(), (std::vector<int64_t>{1, 40, 8, 8}));
  EXPECT_EQ(features.at("high").sizes(), (std::vector<int64_t>{1, 960, 4, 4}));
  MobileNetV3LargeBackbone plain(/*dilated=*/false);
  plain->set_return_layers({{"16", "high"}});
  plain->eval();
  EXPECT_EQ(plain->forward(torch::randn({1, 3, 64, 64})).at("high").size(2), 2);  // Stride 32 undilated.
}

TEST(MobileNetV3, ConvInitIsKaimingNormalFanOut) {
  torch::manual_seed(0);
  MobileNetV3LargeBackbone backbone(/*dilated=*/true);
  const torch::Tensor w = backbone->last->conv->weight;  // 960x160x1x1: fan_out = 960.
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / 960), 0.05 * std::sqrt(2.0 / 960));
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 1e-3);
  EXPECT_TRUE(torch::equal(backbone->last->bn->weight, torch::ones({960})));
}

TEST(MobileNetV3, ChannelsLastGivesTheSameLogits) {
  torch::manual_seed(0);
  SemanticModel model = CreateSemanticModel("lraspp_mobilenet_v3_large", 4);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 96, 96});
  const torch::Tensor expected = model->forward(x).out;
  model->SetChannelsLast(true);
  EXPECT_TRUE(model->named_parameters()["backbone.0.0.weight"].is_contiguous(torch::MemoryFormat::ChannelsLast));
  const torch::Tensor got = model->forward(x).out;
  EXPECT_TRUE(got.is_contiguous());
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-4);
}

}  // namespace
}  // namespace segtune
