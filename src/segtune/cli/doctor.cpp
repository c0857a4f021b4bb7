// `segtune doctor`: what this build links against, and a quick self-check that each part works.
#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <ATen/Parallel.h>
#include <google/protobuf/stubs/common.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "segtune/data/opencv_codecs.h"
#endif

namespace {

#if SEGTUNE_PLUGIN
// Returns "" when the check passes, else what went wrong.
std::string CheckTensorMath() {
  const torch::Tensor a = torch::arange(6, torch::kFloat32).reshape({2, 3});
  const torch::Tensor b = torch::ones({3, 2});
  const torch::Tensor c = torch::matmul(a, b);  // Rows sum to 3 and 12.
  if (c[0][0].item<float>() != 3.0f || c[1][1].item<float>() != 12.0f) return "matmul gave wrong values";
  return "";
}

std::string CheckImageCodec() {
  cv::Mat image(8, 8, CV_8UC3, cv::Scalar(10, 20, 30));
  std::vector<uchar> png;
  if (!segtune::EncodeWithOpenCv(".png", image, &png)) return "PNG encode failed";
  cv::Mat back = segtune::DecodeWithOpenCv(cv::Mat(png), cv::IMREAD_COLOR);
  if (back.empty() || cv::norm(back, image, cv::NORM_INF) != 0) return "PNG round trip differs";
  return "";
}

#endif

struct Options {};  // `segtune doctor` takes none.

segtune::cli::Runner Setup(CLI::App& app) {
  app.footer("Prints library versions, threads and devices, then runs a self-check. Exit 1 if a check fails.");
  return segtune::cli::InPlugin("doctor", std::make_shared<Options>());
}

#if SEGTUNE_PLUGIN
int Run(const Options&) {
  const auto& g = segtune::cli::Globals();
  std::cout << "segtune " << SEGTUNE_VERSION << "\n"
            << "libtorch " << TORCH_VERSION << " (CUDA " << (torch::cuda::is_available() ? "available" : "not available")
            << ")\n"
            << "OpenCV " << CV_VERSION << "\n"
            << "protobuf " << google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION) << "\n"
            << "threads " << g.threads << " (at::get_num_threads() = " << at::get_num_threads() << ")\n"
            << "device " << g.device << "\n";
  int failures = 0;
  for (auto [name, check] : {std::pair{"tensor math", &CheckTensorMath}, std::pair{"image codec", &CheckImageCodec}}) {
    const std::string problem = check();
    std::cout << "check " << name << ": " << (problem.empty() ? "ok" : "FAILED: " + problem) << "\n";
    failures += !problem.empty();
  }
  if (failures) throw segtune::Error("self-check failed (" + std::to_string(failures) + " checks)");
  std::cout << "self-check passed\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(doctor, 90, "Show versions, threads and devices, and run a self-check", Setup);
SEGTUNE_PLUGIN_RUN(doctor, Options, Run);
