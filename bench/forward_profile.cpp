// Where a prepared model's forward spends its time, per operator: LibTorch's legacy profiler
// (RecordProfile, a Chrome trace) over ROUNDS forward passes at 512x512, batch 1, as export_bench times
// them (forward to full-size logits, then argmax). The oneDNN kernels record themselves as
// "onednn conv <kind>" (export/onednn_conv_kernel.cpp). bench/forward_profile.sh sums the trace's
// top-level operators into a table.
//
// usage: forward_profile MODEL ENGINE THREADS ROUNDS TRACE_JSON   (ENGINE: torch or onednn)
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "segtune/export/prepare_inference.h"
#include "segtune/inference/thread_plan.h"
#include "segtune/models/semantic_registry.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    std::cerr << "usage: forward_profile MODEL ENGINE THREADS ROUNDS TRACE_JSON\n";
    return 2;
  }
  const std::string name = argv[1];
  const int threads = std::atoi(argv[3]), rounds = std::atoi(argv[4]);
  // Threads as `segtune infer` sets them for one image (LibTorch, OpenCV, OpenBLAS).
  const segtune::ThreadPlan plan(threads, 1, 1, false, {at::get_num_threads, at::set_num_threads});
  plan.StartWorker();
  torch::manual_seed(0);
  auto model = segtune::CreateSemanticModel(name, 21, false);
  segtune::PrepareOptions options;
  options.engine = segtune::ParseInferenceEngine(argv[2], "ENGINE");
  std::cerr << segtune::DescribePreparation(segtune::PrepareForInference(*model, torch::kCPU, options), true) << "\n";
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  const torch::Tensor x = (torch::rand({1, 3, 512, 512}) - mean) / std;
  c10::InferenceMode inference;
  const auto run = [&] { model->forward(x).out.argmax(1); };
  for (int i = 0; i < 2; ++i) {  // Warm-up: primitives (created on the first pass), allocator.
    const auto t0 = std::chrono::steady_clock::now();
    run();
    std::cout << "warm-up forward " << i + 1 << " ms "
              << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() << "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  {
    torch::autograd::profiler::RecordProfile profile(argv[5]);
    for (int i = 0; i < rounds; ++i) run();
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "model " << name << " engine " << argv[2] << " threads " << at::get_num_threads() << " rounds " << rounds
            << " wall_ms_per_round " << ms / rounds << "\n";
  return 0;
}
