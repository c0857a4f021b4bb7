// MakeConv2d and WeightsWillBeLoaded (models/layers.h): outside the scope a convolution is exactly
// LibTorch's (same random draw); inside it, the same module without the draw, which a strict load
// then fills, so a model built either way computes the same thing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/models/layers.h"
#include "segtune/models/load_state.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {
namespace {

std::vector<torch::nn::Conv2dOptions> SomeOptions() {
  return {torch::nn::Conv2dOptions(16, 32, 1).bias(false),
          torch::nn::Conv2dOptions(8, 8, 5).stride(2).padding(2).groups(8).bias(false),
          torch::nn::Conv2dOptions(12, 6, 3).padding(2).dilation(2),
          torch::nn::Conv2dOptions(6, 9, {3, 1}).stride({1, 2}).padding({1, 0}).groups(3)};
}

TEST(MakeConv2d, OutsideTheScopeDrawsTheSameWeightsAsLibTorch) {
  EXPECT_FALSE(WeightsWillBeLoaded::Active());
  for (const auto& options : SomeOptions()) {
    torch::manual_seed(5);
    const torch::nn::Conv2d ours = MakeConv2d(options);
    torch::manual_seed(5);
    const torch::nn::Conv2d torchs(options);
    EXPECT_TRUE(torch::equal(ours->weight, torchs->weight));
    EXPECT_EQ(ours->bias.defined(), torchs->bias.defined());
    if (torchs->bias.defined()) EXPECT_TRUE(torch::equal(ours->bias, torchs->bias));
  }
}

TEST(MakeConv2d, InsideTheScopeBuildsTheSameModuleWhichComputesTheSameOnceLoaded) {
  for (const auto& options : SomeOptions()) {
    torch::nn::Conv2d reference(options);
    torch::nn::Conv2d skipped{nullptr};
    {
      const WeightsWillBeLoaded scope;
      EXPECT_TRUE(WeightsWillBeLoaded::Active());
      skipped = MakeConv2d(options);
    }
    EXPECT_FALSE(WeightsWillBeLoaded::Active());
    const auto& a = skipped->options;
    const auto& b = reference->options;
    EXPECT_EQ(a.in_channels(), b.in_channels());
    EXPECT_EQ(a.out_channels(), b.out_channels());
    EXPECT_EQ(a.groups(), b.groups());
    EXPECT_EQ(*a.kernel_size(), *b.kernel_size());
    EXPECT_EQ(*a.stride(), *b.stride());
    EXPECT_EQ(*a.dilation(), *b.dilation());
    EXPECT_EQ(skipped->weight.sizes(), reference->weight.sizes());
    EXPECT_EQ(skipped->bias.defined(), reference->bias.defined());
    if (reference->bias.defined()) EXPECT_EQ(skipped->bias.sizes(), reference->bias.sizes());

    NamedTensors state;
    for (const auto& p : reference->named_parameters()) state.items.emplace_back(p.key(), p.value().detach().clone());
    LoadOptions strict;
    strict.strict = true;
    LoadStateDict(*skipped, state, strict);
    const torch::Tensor x = torch::randn({2, a.in_channels(), 9, 10});
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(skipped->forward(x), reference->forward(x)));
  }
}

TEST(MakeConv2d, ScopesNestAndEndWithTheirOwner) {
  {
    const WeightsWillBeLoaded outer;
    {
      const WeightsWillBeLoaded inner;
      EXPECT_TRUE(WeightsWillBeLoaded::Active());
    }
    EXPECT_TRUE(WeightsWillBeLoaded::Active());
  }
  EXPECT_FALSE(WeightsWillBeLoaded::Active());
}

// A whole registry model built in the scope: same parameter names and shapes, and after a strict load
// of a normally built model's state, the same logits.
TEST(MakeConv2d, ModelBuiltWithoutInitialisationMatchesOnceLoaded) {
  torch::manual_seed(3);
  SemanticModel reference = CreateSemanticModel("lraspp_mobilenet_v3_large", 4);
  SemanticModel skipped{nullptr};
  {
    const WeightsWillBeLoaded scope;
    skipped = CreateSemanticModel("lraspp_mobilenet_v3_large", 4);
  }
  NamedTensors state;
  for (const auto& p : reference->named_parameters()) state.items.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : reference->named_buffers()) state.items.emplace_back(b.key(), b.value().detach().clone());
  LoadOptions strict;
  strict.strict = true;
  const LoadReport report = LoadStateDict(*skipped, state, strict);
  EXPECT_EQ(report.loaded.size(), state.items.size());
  reference->eval();
  skipped->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, 64, 80});
  EXPECT_TRUE(torch::equal(skipped->forward(x).out, reference->forward(x).out));
}

}  // namespace
}  // namespace segtune
