// Inference latency of an exported model at 512x512, batch 1: segtune/libtorch (BatchNorm folded)
// and OpenCV DNN on the fixed-size ONNX graph. Driven by bench/export_bench.sh, which adds ONNX
// Runtime (node) and PyTorch eager (Python) and prints the ratios.
//
// usage: export_bench MODEL_NAME OUT_DIR [REPEATS]
//   writes OUT_DIR/<model>.onnx (fixed 512x512) and OUT_DIR/input.bin, prints "segtune_ms X" and
//   "opencv_ms Y" (median of REPEATS runs after one warm-up).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <opencv2/dnn.hpp>

#include "segtune/export/onnx_export.h"
#include "segtune/export/prepare_inference.h"
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

  segtune::PrepareForInference(*model, torch::kCPU);  // What `segtune infer` runs: folded BN, channels-last.
  const double segtune_ms = MedianMs(repeats, [&] {
    c10::InferenceMode inference;
    model->forward((image - mean) / std).out.argmax(1);
  });

  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_path.string());
  std::vector<int> dims = {1, 3, 512, 512};
  cv::Mat blob(4, dims.data(), CV_32F, image.data_ptr());
  const double opencv_ms = MedianMs(repeats, [&] {
    net.setInput(blob, "image");
    std::vector<cv::Mat> outs;
    net.forward(outs, std::vector<cv::String>{"logits", "classes"});
  });
  std::cout << "threads " << at::get_num_threads() << "\n";
  std::cout << "segtune_ms " << segtune_ms << "\nopencv_ms " << opencv_ms << "\n";
  return 0;
}
