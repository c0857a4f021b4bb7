// GlobalAveragePool (models/layers.h): the same output and, bit for bit, the same gradient as
// LibTorch's adaptive_avg_pool2d(x, 1), in both memory formats, when the input has another consumer
// (as in squeeze-excitation) and when the pool is its only consumer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/models/layers.h"

namespace segtune {
namespace {

struct Result {
  torch::Tensor out, grad;
};

// loss = sum(w1 * (x * sigmoid(pool(x)))) [+ sum(w2 * pool(x)) when only_pool], gradient of x.
template <typename Pool>
Result PoolAndBackward(const torch::Tensor& input, bool only_pool, Pool pool) {
  torch::Tensor x = input.detach().clone(at::MemoryFormat::Preserve).requires_grad_(true);
  const torch::Tensor pooled = pool(x);
  torch::manual_seed(3);
  const torch::Tensor w = torch::randn(x.sizes());
  const torch::Tensor loss = only_pool ? (pooled * torch::randn(pooled.sizes())).sum()
                                       : (x * torch::sigmoid(pooled) * w).sum();
  loss.backward();
  return {pooled.detach(), x.grad()};
}

TEST(GlobalAveragePool, MatchesAdaptiveAvgPool2dOutputAndGradientExactly) {
  const auto reference = [](const torch::Tensor& x) { return torch::adaptive_avg_pool2d(x, {1, 1}); };
  const auto ours = [](const torch::Tensor& x) { return GlobalAveragePool(x); };
  for (const bool channels_last : {false, true}) {
    for (const bool only_pool : {false, true}) {
      torch::manual_seed(11);
      torch::Tensor x = torch::randn({3, 40, 13, 9});
      if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      const Result a = PoolAndBackward(x, only_pool, reference), b = PoolAndBackward(x, only_pool, ours);
      EXPECT_TRUE(torch::equal(a.out, b.out)) << channels_last << only_pool;
      EXPECT_TRUE(torch::equal(a.grad, b.grad)) << channels_last << only_pool;
      EXPECT_EQ(a.grad.is_contiguous(at::MemoryFormat::ChannelsLast), b.grad.is_contiguous(at::MemoryFormat::ChannelsLast))
          << channels_last << only_pool;
    }
  }
}

}  // namespace
}  // namespace segtune
