// Forward latency (eval, no grad), one SGD train step, and the forward latency of the same model
// prepared for inference (PrepareForInference: BatchNorm folded, channels-last, the default oneDNN engine,
// InferenceMode) of a
// segmentation model, for comparison with PyTorch (bench/models_bench.py, driven by
// bench/models_bench.sh).
// Usage: models_bench MODEL [--batch 4] [--size 256] [--repeat 5] [--threads N] [--channels-last] [--cpu-time]
// Prints: "segtune MODEL forward_ms <median> train_ms <median> infer_ms <median> threads N".
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "segtune/export/prepare_inference.h"
#include "segtune/models/semantic_registry.h"
#include "bench_timing.h"

namespace {

using segtune::bench::MedianCpuMs;
using segtune::bench::MedianMs;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: models_bench MODEL [--batch 4] [--size 256] [--repeat 5] [--threads N] [--channels-last] [--cpu-time]\n";
    return 2;
  }
  const std::string name = argv[1];
  int batch = 4, size = 256, repeat = 5, threads = 0;
  bool channels_last = false, cpu_time = false;
  std::string profile;  // --profile FILE: chrome trace of one eval forward (after the timed runs).
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--channels-last") channels_last = true;
    else if (arg == "--cpu-time") cpu_time = true;
    else if (i + 1 < argc && arg == "--profile") profile = argv[++i];
    else if (i + 1 < argc && arg == "--batch") batch = std::atoi(argv[++i]);
    else if (i + 1 < argc && arg == "--size") size = std::atoi(argv[++i]);
    else if (i + 1 < argc && arg == "--repeat") repeat = std::atoi(argv[++i]);
    else if (i + 1 < argc && arg == "--threads") threads = std::atoi(argv[++i]);
  }
  if (threads > 0) at::set_num_threads(threads);
  // --cpu-time: process CPU time instead of wall time (see bench_timing.h).
  const auto median = [cpu_time](int n, const std::function<void()>& run) {
    return cpu_time ? MedianCpuMs(n, run) : MedianMs(n, run);
  };
  torch::manual_seed(0);
  const auto& info = segtune::FindSemanticModelInfo(name);
  segtune::SemanticModel model = segtune::CreateSemanticModel(name, 21, info.supports_aux);
  model->SetChannelsLast(channels_last);
  // The input in the model's layout, made before timing, as the peer does (models_bench.py).
  const torch::Tensor x = torch::randn({batch, 3, size, size})
                              .contiguous(channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
  const torch::Tensor target = torch::randint(0, 21, {batch, size, size});

  model->eval();
  const double forward_ms = median(repeat, [&] {
    torch::NoGradGuard no_grad;
    model->forward(x);
  });
  if (!profile.empty()) {
    torch::NoGradGuard no_grad;
    torch::autograd::profiler::RecordProfile record(profile);
    model->forward(x);
  }

  model->train();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const double train_ms = median(repeat, [&] {
    optimizer.zero_grad();
    const segtune::SemanticOutput out = model->forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(out.out, target);
    if (out.aux.defined()) loss = loss + 0.5 * torch::nn::functional::cross_entropy(out.aux, target);
    loss.backward();
    optimizer.step();
  });

  // Last: preparing changes the weights for good.
  segtune::PrepareForInference(*model, torch::kCPU);
  const double infer_ms = median(repeat, [&] {
    c10::InferenceMode inference;
    model->forward(x);
  });
  std::cout << "segtune " << name << (channels_last ? " channels_last" : "") << " forward_ms " << forward_ms
            << " train_ms " << train_ms << " infer_ms " << infer_ms << " threads " << at::get_num_threads() << " clock " << (cpu_time ? "cpu" : "wall")
            << std::endl;
  return 0;
}
