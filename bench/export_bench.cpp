// Inference latency of an exported model at 512x512, batch 1: segtune's prepared model (BatchNorm
// folded, channels-last) with its two engines, oneDNN kernels and LibTorch throughout, and OpenCV DNN on
// the fixed-size ONNX graph. Driven by bench/export_bench.sh, which adds ONNX
// Runtime (node) and PyTorch eager (Python) and prints the ratios.
//
// usage: export_bench MODEL_NAME OUT_DIR [REPEATS] [THREADS]
//   THREADS (default: all cores) as `segtune infer` sets them for one image (LibTorch, OpenCV, OpenBLAS);
//   Debian's LibTorch alone would run one thread here.
//   writes OUT_DIR/<model>.onnx (fixed 512x512) and OUT_DIR/input.bin, prints "<variant>_ms X" for
//   segtune's variants (engine x class-map path, below) and "opencv_ms Y" (medians of REPEATS runs after
//   one warm-up; segtune's variants run in an order rotated per round, so a slow phase of a shared
//   machine hits all of them).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <thread>
#include <iostream>
#include <opencv2/dnn.hpp>

#include "segtune/export/onnx_export.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/inference/class_argmax.h"
#include "segtune/inference/thread_plan.h"
#include "segtune/models/semantic_registry.h"
#include "bench_timing.h"

namespace {
using segtune::bench::MedianMs;
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: export_bench MODEL_NAME OUT_DIR [REPEATS]\n";
    return 2;
  }
  const std::string name = argv[1];
  const std::filesystem::path out = argv[2];
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 10;
  const int threads = argc > 4 ? std::atoi(argv[4]) : static_cast<int>(std::thread::hardware_concurrency());
  const segtune::ThreadPlan plan(threads, 1, 1, false, {at::get_num_threads, at::set_num_threads});
  plan.StartWorker();
  std::filesystem::create_directories(out);
  torch::manual_seed(0);
  auto model = segtune::CreateSemanticModel(name, 21, false);
  model->eval();
  torch::NoGradGuard no_grad;
  segtune::OnnxExportOptions options;
  options.fixed_size = {{512, 512}};
  const auto onnx_path = out / (name + ".onnx");
  segtune::WriteOnnx(segtune::ExportOnnx(*model, options).model, onnx_path);

  const torch::Tensor image = torch::rand({1, 3, 512, 512});
  std::ofstream(out / "input.bin", std::ios::binary)
      .write(static_cast<const char*>(image.data_ptr()), image.numel() * sizeof(float));
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});

  // What `segtune infer` runs: folded BN, channels-last, the engine's kernels. Two instances with the
  // same weights (same seed), one per engine, each keeping its kernels.
  torch::manual_seed(0);
  auto torch_model = segtune::CreateSemanticModel(name, 21, false);
  segtune::PrepareOptions torch_engine;
  torch_engine.engine = segtune::InferenceEngine::kTorch;
  segtune::PrepareForInference(*torch_model, torch::kCPU, torch_engine);
  std::cerr << segtune::DescribePreparation(segtune::PrepareForInference(*model, torch::kCPU), true) << "\n";
  // The ONNX graph's outputs: full-size logits and the class map. aten::argmax over the channels of
  // [1, 21, 512, 512] takes ~30 ms at one thread, so the class map also comes from segtune's own
  // argmax (inference/class_argmax.h, what `segtune infer` uses) over the same full-size logits.
  const auto full_size = [&](segtune::SemanticModelImpl& m, bool aten_argmax) {
    const torch::Tensor logits = m.forward((image - mean) / std).out;
    if (aten_argmax) return logits.argmax(1);
    torch::Tensor classes = torch::empty({512, 512}, torch::kUInt8);
    segtune::ClassArgmax(logits.data_ptr<float>(), logits.size(1), 512 * 512, 512 * 512, classes.data_ptr<uint8_t>(),
                         nullptr);
    return classes;
  };
  // `segtune infer`'s own path: head logits, then the resize fused into the argmax (no full-size logits).
  const auto infer_path = [&](segtune::SemanticModelImpl& m) {
    const torch::Tensor head = segtune::HeadLogits(m, (image - mean) / std);
    const segtune::LogitsView view{head.data_ptr<float>(), head.size(1), head.size(2), head.size(3),
                                   head.stride(1),        head.stride(2), head.stride(3)};
    torch::Tensor classes = torch::empty({512, 512}, torch::kUInt8);
    segtune::ResizedClassArgmax(view, 512, 512, 0, 512, classes.data_ptr<uint8_t>(), nullptr);
  };
  struct Variant {
    std::string key;
    std::function<void()> run;
    std::vector<double> ms;
  };
  std::vector<Variant> variants{
      {"segtune_ms", [&] { full_size(*torch_model, true); }, {}},
      {"segtune_onednn_ms", [&] { full_size(*model, true); }, {}},
      {"segtune_argmax_ms", [&] { full_size(*torch_model, false); }, {}},
      {"segtune_onednn_argmax_ms", [&] { full_size(*model, false); }, {}},
      {"segtune_infer_path_ms", [&] { infer_path(*torch_model); }, {}},
      {"segtune_onednn_infer_path_ms", [&] { infer_path(*model); }, {}},
  };
  c10::InferenceMode inference;
  for (int r = -1; r < repeats; ++r) {  // One warm-up round (primitive creation, allocator).
    for (size_t k = 0; k < variants.size(); ++k) {  // Order rotated per round: slow phases hit all alike.
      Variant& v = variants[(k + static_cast<size_t>(r + 1)) % variants.size()];
      const auto start = std::chrono::steady_clock::now();
      v.run();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (r >= 0) v.ms.push_back(ms);
    }
  }

  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_path.string());
  std::vector<int> dims = {1, 3, 512, 512};
  cv::Mat blob(4, dims.data(), CV_32F, image.data_ptr());
  const double opencv_ms = MedianMs(repeats, [&] {
    net.setInput(blob, "image");
    std::vector<cv::Mat> outs;
    net.forward(outs, std::vector<cv::String>{"logits", "classes"});
  });
  std::cout << "threads " << at::get_num_threads() << "\n";
  for (Variant& v : variants) {
    std::sort(v.ms.begin(), v.ms.end());
    std::cout << v.key << " " << v.ms[v.ms.size() / 2] << "\n";
  }
  std::cout << "opencv_ms " << opencv_ms << "\n";
  return 0;
}
