// Synchronised BatchNorm (models/layers.h) in one process: two replicas run in two threads on the two
// halves of a batch, their statistics summed through a thread barrier standing in for the allreduce, and
// must reproduce one BatchNorm on the whole batch: output, input gradient, summed weight gradients and
// running statistics.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "segtune/models/layers.h"
#include "test_util.h"

namespace segtune {
namespace {

// Sums over `n` threads that each call SumOverReplicas in the same order (a reusable barrier).
class ThreadReplicas : public BatchNormStatsReducer {
 public:
  explicit ThreadReplicas(int n) : n_(n) {}
  void SumOverReplicas(at::Tensor& t) override {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    sum_ = arrived_ == 0 ? t.clone() : sum_ + t;
    if (++arrived_ == n_) {
      result_ = sum_;
      arrived_ = 0;
      ++generation_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return generation_ != generation; });
    }
    t.copy_(result_);
  }

 private:
  const int n_;
  std::mutex mutex_;
  std::condition_variable done_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  at::Tensor sum_, result_;
};

struct Pass {
  torch::Tensor output, input_grad, weight_grad, bias_grad, running_mean, running_var;
};

// Two training steps of `bn` on x (the loss sum(y * g) with a fixed g), the second pass's values kept.
Pass TrainTwice(FoldableBatchNorm2d bn, const torch::Tensor& x_in, const torch::Tensor& g) {
  bn->train();
  Pass pass;
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor x = x_in.clone().requires_grad_(true);
    bn->zero_grad();
    pass.output = bn->forward(x);
    (pass.output * g).sum().backward();
    pass.input_grad = x.grad();
  }
  pass.weight_grad = bn->weight.grad();
  pass.bias_grad = bn->bias.grad();
  pass.running_mean = bn->running_mean.clone();
  pass.running_var = bn->running_var.clone();
  return pass;
}

FoldableBatchNorm2d Replica(const FoldableBatchNorm2d& reference) {
  FoldableBatchNorm2d bn = MakeBatchNorm(reference->options.num_features(), {1e-3, 0.1});
  torch::NoGradGuard no_grad;
  bn->weight.copy_(reference->weight);
  bn->bias.copy_(reference->bias);
  return bn;
}

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(SyncBatchNorm, TwoReplicasOnHalfBatchesEqualOneOnTheWholeBatch) {
  torch::manual_seed(3);
  // Channel means far from zero: the variance is then a small difference of large sums.
  const torch::Tensor x = torch::randn({6, 4, 5, 3}) * 2 + torch::tensor({0.f, 5.f, -3.f, 1.f}).view({1, 4, 1, 1});
  const torch::Tensor g = torch::randn({6, 4, 5, 3});
  FoldableBatchNorm2d whole = MakeBatchNorm(4, {1e-3, 0.1});
  {
    torch::NoGradGuard no_grad;
    whole->weight.uniform_(0.5, 1.5);
    whole->bias.uniform_(-1, 1);
  }
  std::vector<FoldableBatchNorm2d> replicas{Replica(whole), Replica(whole)};
  const Pass expected = TrainTwice(whole, x, g);

  auto reducer = std::make_shared<ThreadReplicas>(2);
  for (auto& r : replicas) EXPECT_EQ(SynchroniseBatchNorm(*r, reducer), 1);
  // Uneven halves (2 + 4 samples): the counts travel with the sums.
  std::vector<Pass> passes(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      const int64_t first = r == 0 ? 0 : 2, end = r == 0 ? 2 : 6;
      passes[r] = TrainTwice(replicas[r], x.slice(0, first, end), g.slice(0, first, end));
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_LE(testing::ReportMeasured("syncbn output", MaxDiff(torch::cat({passes[0].output, passes[1].output}), expected.output), 1e-5), 1e-5);
  EXPECT_LE(testing::ReportMeasured("syncbn input gradient", MaxDiff(torch::cat({passes[0].input_grad, passes[1].input_grad}), expected.input_grad), 1e-5), 1e-5);
  // Each replica's weight gradient is its own samples' share; their sum is the whole batch's.
  EXPECT_LE(testing::ReportMeasured("syncbn weight gradient", MaxDiff(passes[0].weight_grad + passes[1].weight_grad, expected.weight_grad), 1e-4), 1e-4);
  EXPECT_LE(testing::ReportMeasured("syncbn bias gradient", MaxDiff(passes[0].bias_grad + passes[1].bias_grad, expected.bias_grad), 1e-4), 1e-4);
  for (const Pass& p : passes) {
    EXPECT_LE(testing::ReportMeasured("syncbn running mean", MaxDiff(p.running_mean, expected.running_mean), 1e-6), 1e-6);
    EXPECT_LE(testing::ReportMeasured("syncbn running var", MaxDiff(p.running_var, expected.running_var), 1e-5), 1e-5);
  }
  EXPECT_EQ(replicas[0]->num_batches_tracked.item<int64_t>(), 2);

  // Without the reducer each replica normalises by its own half: far from the whole batch's numbers.
  const Pass alone = TrainTwice(Replica(whole), x.slice(0, 0, 2), g.slice(0, 0, 2));
  EXPECT_GT(MaxDiff(alone.running_mean, expected.running_mean), 1e-3);
  EXPECT_GT(MaxDiff(alone.input_grad, expected.input_grad.slice(0, 0, 2)), 1e-2);
}

TEST(SyncBatchNorm, EvaluationModeIgnoresTheReducer) {
  torch::manual_seed(4);
  FoldableBatchNorm2d bn = MakeBatchNorm(3, {});
  FoldableBatchNorm2d plain = MakeBatchNorm(3, {});
  SynchroniseBatchNorm(*bn, std::make_shared<ThreadReplicas>(2));  // Would block forever if used.
  bn->eval();
  plain->eval();
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  EXPECT_TRUE(torch::equal(bn->forward(x), plain->forward(x)));
}

}  // namespace
}  // namespace segtune
