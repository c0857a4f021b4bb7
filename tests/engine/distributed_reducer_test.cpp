// The overlapped gradient reducer (engine/distributed_reducer.h) with a fake collective standing in for
// Gloo: buckets are launched from inside backward in reverse parameter order, a parameter used twice is
// reduced once with its full gradient, unused parameters are reduced at Finish(), and failures surface
// from Finish().
#include "segtune/engine/distributed_reducer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace segtune {
namespace {

// fc1 -> relu -> fc2 -> fc2 again (a parameter used twice); `unused` never takes part in forward.
struct Net : torch::nn::Module {
  Net() {
    fc1 = register_module("fc1", torch::nn::Linear(8, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 16));
    unused = register_module("unused", torch::nn::Linear(4, 4));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(fc2(torch::relu(fc1(x)))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, unused{nullptr};
};

// A fake allreduce over `ranks` identical ranks: the sum is the tensor times `ranks`. Records what was
// launched (numel) and whether backward was still running (the launch happened inside a hook).
struct FakeCollective {
  int ranks = 2;
  bool in_backward = false;
  std::vector<std::pair<int64_t, bool>> launches;
  bool fail_next = false;
  BucketedGradientReducer::Launch Launch() {
    return [this](at::Tensor flat) -> std::function<void()> {
      launches.emplace_back(flat.numel(), in_backward);
      if (fail_next) {
        fail_next = false;
        return [] { throw std::runtime_error("peer closed the connection"); };
      }
      return [flat, this] { flat.mul_(ranks); };
    };
  }
};

std::vector<torch::Tensor> Grads(Net& net) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : net.parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  return grads;
}

void Backward(Net& net, FakeCollective& collective, const torch::Tensor& x) {
  net.zero_grad();
  collective.in_backward = true;
  net.forward(x).sum().backward();
  collective.in_backward = false;
}

TEST(BucketedGradientReducer, LaunchesBucketsInsideBackwardAndAveragesExactly) {
  torch::manual_seed(2);
  auto net = std::make_shared<Net>();
  const torch::Tensor x = torch::randn({5, 8});
  net->forward(x).sum().backward();
  const std::vector<torch::Tensor> reference = Grads(*net);

  FakeCollective collective;
  // Reverse order, 600-byte buckets: [unused.bias, unused.weight, fc2.bias] (20 + 16 floats),
  // [fc2.weight] (256), [fc1.bias, fc1.weight] (16 + 128).
  BucketedGradientReducer reducer(net->parameters(), 600, collective.Launch());
  EXPECT_EQ(reducer.num_buckets(), 3);
  Backward(*net, collective, x);
  reducer.Finish(collective.ranks);

  // The unused layer's bucket comes first and only completes at Finish(); buckets launch in order, so
  // all three launch there. The averages (sum of 2 identical ranks / 2) are the reference gradients.
  ASSERT_EQ(collective.launches.size(), 3u);
  for (const auto& launch : collective.launches) EXPECT_FALSE(launch.second);
  const std::vector<torch::Tensor> averaged = Grads(*net);
  for (size_t i = 0; i < reference.size(); ++i) {
    ASSERT_EQ(averaged[i].defined(), reference[i].defined()) << i;
    if (reference[i].defined()) EXPECT_TRUE(torch::allclose(averaged[i], reference[i], 0, 1e-7)) << i;
  }
  EXPECT_FALSE(net->unused->weight.grad().defined());
}

// Without an unused parameter ahead of them, the buckets are launched while backward still runs, the
// head's (fc2) first.
TEST(BucketedGradientReducer, LaunchesInReverseParameterOrderDuringBackward) {
  torch::manual_seed(2);
  auto net = std::make_shared<Net>();
  std::vector<at::Tensor> used;
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("unused", 0) != 0) used.push_back(p.value());
  }
  FakeCollective collective;
  BucketedGradientReducer reducer(used, 600, collective.Launch());
  ASSERT_EQ(reducer.num_buckets(), 3);  // [fc2.bias], [fc2.weight] (64 + 1024 > 600 bytes), [fc1.bias, fc1.weight]
  const torch::Tensor x = torch::randn({5, 8});
  for (int step = 0; step < 2; ++step) {
    collective.launches.clear();
    Backward(*net, collective, x);
    reducer.Finish(collective.ranks);
    ASSERT_EQ(collective.launches.size(), 3u);
    EXPECT_EQ(collective.launches[0].first, 16);    // fc2.bias
    EXPECT_EQ(collective.launches[1].first, 256);   // fc2.weight (used twice: one launch, full gradient)
    EXPECT_EQ(collective.launches[2].first, 16 + 128);  // fc1.bias + fc1.weight
    for (const auto& launch : collective.launches) EXPECT_TRUE(launch.second) << "launched after backward";
    EXPECT_EQ(reducer.launched_during_backward(), 3);
  }
}

TEST(BucketedGradientReducer, FailureSurfacesFromFinishAndTheNextStepWorks) {
  auto net = std::make_shared<Net>();
  FakeCollective collective;
  BucketedGradientReducer reducer(net->parameters(), 1 << 20, collective.Launch());
  const torch::Tensor x = torch::randn({3, 8});
  collective.fail_next = true;
  Backward(*net, collective, x);
  EXPECT_THROW(
      {
        try {
          reducer.Finish(2);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("peer closed"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  Backward(*net, collective, x);
  EXPECT_NO_THROW(reducer.Finish(2));
}

TEST(BucketedGradientReducer, SecondBackwardBeforeFinishIsReported) {
  auto net = std::make_shared<Net>();
  std::vector<at::Tensor> used{net->fc1->weight, net->fc1->bias, net->fc2->weight, net->fc2->bias};
  FakeCollective collective;
  BucketedGradientReducer reducer(used, 1 << 20, collective.Launch());
  const torch::Tensor x = torch::randn({3, 8});
  Backward(*net, collective, x);
  net->forward(x).sum().backward();  // Accumulates without Finish() in between.
  EXPECT_THROW(reducer.Finish(2), std::runtime_error);
}

}  // namespace
}  // namespace segtune
