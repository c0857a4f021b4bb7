// Eval inference latency (images -> detections, post-processing included) and one SGD train step of
// a segtune detection model, for comparison with torchvision (bench/detection_bench.py writes the
// weights and inputs both sides use; bench/detection_bench.sh drives both).
// Usage: detection_bench MODEL DIR [--size 320] [--repeat 5] [--threads N]
//   DIR holds MODEL.pth and MODEL.inputs.pt from `detection_bench.py MODEL --save DIR`.
// Prints: "segtune MODEL infer_ms <median> train_ms <median> threads N".
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "segtune/engine/caching_cpu_allocator.h"
#include "segtune/export/prepare_detection.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/weights.h"
#include "bench_timing.h"

namespace {

using segtune::bench::MedianMs;

std::map<std::string, torch::Tensor> LoadTensorDict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& entry : torch::pickle_load(bytes).toGenericDict()) {
    tensors[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return tensors;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace segtune::detection;
  if (argc < 3) {
    std::cerr << "usage: detection_bench MODEL DIR [--size 320] [--repeat 5] [--threads N]\n";
    return 2;
  }
  const std::string name = argv[1], dir = argv[2];
  int size = 320, repeat = 5, threads = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--size") size = std::atoi(argv[i + 1]);
    else if (arg == "--repeat") repeat = std::atoi(argv[i + 1]);
    else if (arg == "--threads") threads = std::atoi(argv[i + 1]);
  }
  if (threads > 0) at::set_num_threads(threads);
  // As the segtune CLI runs (cli/plugin_entry.cpp); SEGTUNE_BENCH_MALLOC=1 measures without it.
  if (std::getenv("SEGTUNE_BENCH_MALLOC") == nullptr) {
    segtune::InstallCachingCpuAllocator(segtune::DefaultCpuBlockCacheBytes());
  }
  torch::manual_seed(0);
  DetectionModelOptions options = DefaultDetectionOptions(name);
  options.min_size = size;
  options.max_size = 2 * size;
  options.box.score_thresh = 0.0;  // As the peer: always 100 detections per image.
  GeneralizedRCNN model = BuildDetectionModel(name, options);
  LoadDetectionWeights(*model, name, segtune::LoadWeights(dir + "/" + name + ".pth"));
  const auto inputs = LoadTensorDict(dir + "/" + name + ".inputs.pt");
  std::vector<torch::Tensor> images;
  std::vector<DetectionTarget> targets;
  for (int i = 0; inputs.count("image" + std::to_string(i)); ++i) {
    const std::string n = std::to_string(i);
    images.push_back(inputs.at("image" + n));
    targets.push_back(DetectionTarget{inputs.at("boxes" + n), inputs.at("labels" + n), inputs.at("masks" + n)});
  }

  model->eval();
  const double infer_ms = MedianMs(repeat, [&] {
    torch::NoGradGuard no_grad;
    model->forward(images);
  });

  model->train();
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::SGD optimizer(trainable, torch::optim::SGDOptions(0.001).momentum(0.9));
  const double train_ms = MedianMs(repeat, [&] {
    optimizer.zero_grad();
    const DetectionOutput out = model->forward(images, &targets);
    torch::Tensor loss = torch::zeros({});
    for (const auto& [key, value] : out.losses) loss = loss + value;
    loss.backward();
    optimizer.step();
  });
  // Last, since it folds the weights for good: `segtune infer`'s preparation (export/prepare_detection.h)
  // with the oneDNN engine. Its detection scores are checked against the unprepared model's.
  model->eval();
  std::vector<Detections> reference;
  {
    torch::NoGradGuard no_grad;
    reference = model->forward(images).detections;
  }
  const segtune::InferencePreparation prepared = segtune::PrepareDetectionForInference(*model, torch::kCPU);
  std::cerr << segtune::DescribePreparation(prepared, false) << "\n";
  const double engine_ms = MedianMs(repeat, [&] {
    torch::NoGradGuard no_grad;
    model->forward(images);
  });
  // SEGTUNE_BENCH_PROFILE=TRACE.json: a per-operator trace of `repeat` prepared inference runs, for
  // bench/profile_table.py.
  if (const char* trace = std::getenv("SEGTUNE_BENCH_PROFILE")) {
    torch::NoGradGuard no_grad;
    torch::autograd::profiler::RecordProfile profile(trace);
    for (int i = 0; i < repeat; ++i) model->forward(images);
  }
  // Scores in descending order, compared rank by rank: near-tied detections may swap places.
  double score_diff = 0;
  {
    torch::NoGradGuard no_grad;
    const auto engine_out = model->forward(images).detections;
    for (size_t i = 0; i < engine_out.size(); ++i) {
      if (engine_out[i].scores.sizes() != reference[i].scores.sizes()) {
        score_diff = INFINITY;
        break;
      }
      const auto sorted = [](const torch::Tensor& s) { return std::get<0>(s.sort(0, /*descending=*/true)); };
      score_diff = std::max(score_diff, (sorted(engine_out[i].scores) - sorted(reference[i].scores)).abs().max().item<double>());
    }
  }
  std::cout << "segtune " << name << " infer_ms " << infer_ms << " train_ms " << train_ms << " engine_infer_ms "
            << engine_ms << " engine_max_score_diff " << score_diff << " threads " << at::get_num_threads() << std::endl;
  return 0;
}
