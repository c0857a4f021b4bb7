// Where a training step's time goes, per operator: LibTorch's legacy profiler (RecordProfile, a Chrome
// trace) over ROUNDS steps of the step `segtune train` runs on CPU (engine/semantic_task.cpp): the model
// channels-last in train mode, forward, cross-entropy (ignore 255), zero_grad, backward, SGD step
// (momentum 0.9, weight decay 4e-5) on a random batch. bench/train_profile.sh sums the trace's
// top-level operators into a table and sets the same step of PyTorch (train_profile_peer.py) beside it.
//
// usage: train_profile MODEL THREADS ROUNDS BATCH SIZE TRACE_JSON [CLASSES]  (default 21)
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "segtune/engine/caching_cpu_allocator.h"
#include "segtune/models/semantic_registry.h"

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: train_profile MODEL THREADS ROUNDS BATCH SIZE TRACE_JSON\n";
    return 2;
  }
  const std::string name = argv[1];
  const int threads = std::atoi(argv[2]), rounds = std::atoi(argv[3]);
  const int64_t batch = std::atoi(argv[4]), size = std::atoi(argv[5]);
  const int64_t classes = argc > 7 ? std::atoi(argv[7]) : 21;
  at::set_num_threads(threads);
  // As `segtune train` runs (cli/plugin_entry.cpp); SEGTUNE_BENCH_MALLOC=1 measures without it.
  if (std::getenv("SEGTUNE_BENCH_MALLOC") == nullptr) {
    segtune::InstallCachingCpuAllocator(segtune::DefaultCpuBlockCacheBytes());
  }
  torch::manual_seed(0);
  auto model = segtune::CreateSemanticModel(name, classes, false);
  model->train();
  model->SetChannelsLast(true);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(4e-5));
  const torch::Tensor images =
      torch::randn({batch, 3, size, size}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor labels = torch::randint(0, classes, {batch, size, size}, torch::kLong);
  const auto step = [&] {
    const torch::Tensor loss = torch::nn::functional::cross_entropy(
        model->forward(images).out, labels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(255));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  };
  for (int i = 0; i < 3; ++i) step();  // Warm-up: allocator, oneDNN primitives.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) step();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  {
    torch::autograd::profiler::RecordProfile profile(argv[6]);
    for (int i = 0; i < rounds; ++i) step();
  }
  const segtune::CpuBlockCacheStats cache = segtune::GetCpuBlockCacheStats();
  std::cerr << "cpu block cache: " << cache.cached_bytes / (1 << 20) << " MiB held, " << cache.hits << " hits, "
            << cache.misses << " misses\n";
  std::cout << "segtune " << name << " threads " << at::get_num_threads() << " ms_per_step (unprofiled) "
            << ms / rounds << "\n";
  return 0;
}
