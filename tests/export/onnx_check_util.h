// Runs an exported ONNX file through the three references the export tests compare against:
// the ONNX checker (python3-onnx), ONNX Runtime (node + onnxruntime-node) and OpenCV DNN.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <string>

#include "test_util.h"

namespace segtune::testing {

inline bool OrtAvailable() {
  return std::filesystem::exists(SourcePath("tests/node_modules/onnxruntime-node"));
}
inline const char* kOrtMissing =
    "tests/node_modules/onnxruntime-node is absent: run `cd tests && npm install --ignore-scripts`";

// "" if onnx.checker.check_model(full_check=True) accepts the file, else its message.
inline std::string CheckOnnx(const std::filesystem::path& model) {
  const CommandResult r = RunPython(SourcePath("tests/export/check_onnx.py") + " '" + model.string() + "'");
  return r.exit_code == 0 ? "" : r.output;
}

inline void WriteRaw(const std::filesystem::path& path, const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

inline torch::Tensor ReadRaw(const std::filesystem::path& path, torch::IntArrayRef sizes, torch::ScalarType dtype) {
  std::ifstream in(path, std::ios::binary);
  torch::Tensor t = torch::empty(sizes, dtype);
  in.read(static_cast<char*>(t.data_ptr()), t.numel() * t.element_size());
  EXPECT_EQ(in.gcount(), t.numel() * t.element_size()) << path;
  return t;
}

struct SegOutputs {
  torch::Tensor logits;   // float [N, C, H, W]
  torch::Tensor classes;  // int64 [N, H, W]
};

// Runs the model in ONNX Runtime. `num_classes` gives the logits' channel count.
inline SegOutputs RunOrt(const std::filesystem::path& model, const torch::Tensor& input, int64_t num_classes,
                         const std::filesystem::path& work) {
  const auto in_path = work / "ort_input.bin";
  WriteRaw(in_path, input);
  const auto s = input.sizes();
  const std::string dims = std::to_string(s[0]) + "," + std::to_string(s[1]) + "," + std::to_string(s[2]) + "," +
                           std::to_string(s[3]);
  const std::string dtype = input.scalar_type() == torch::kUInt8 ? "uint8" : "float32";
  const CommandResult r = RunCommand("node '" + SourcePath("tests/export/run_ort.js") + "' '" + model.string() +
                                     "' '" + in_path.string() + "' " + dtype + " " + dims + " '" +
                                     (work / "ort").string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code != 0) return {};
  return {ReadRaw(work / "ort.logits.bin", {s[0], num_classes, s[2], s[3]}, torch::kFloat32),
          ReadRaw(work / "ort.classes.bin", {s[0], s[2], s[3]}, torch::kInt64)};
}

// Runs the model in OpenCV DNN (float input). Classes come from the graph's own ArgMax output.
inline SegOutputs RunOpenCv(const std::filesystem::path& model, const torch::Tensor& input) {
  if (const char* keep = std::getenv("SEGTUNE_EXPORT_TEST_KEEP")) {  // Debugging aid: keep the file.
    std::filesystem::copy_file(model, std::filesystem::path(keep) / model.filename(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  cv::dnn::Net net = cv::dnn::readNetFromONNX(model.string());
  const torch::Tensor c = input.contiguous();
  std::vector<int> dims(c.sizes().begin(), c.sizes().end());
  cv::Mat blob(int(dims.size()), dims.data(), CV_32F, c.data_ptr());
  net.setInput(blob, "image");
  std::vector<cv::Mat> outs;
  net.forward(outs, std::vector<cv::String>{"logits", "classes"});
  const auto to_tensor = [](const cv::Mat& m) {
    std::vector<int64_t> sizes(m.size.p, m.size.p + m.dims);
    return torch::from_blob(m.data, sizes, torch::kFloat32).clone();
  };
  return {to_tensor(outs[0]), to_tensor(outs[1]).to(torch::kInt64)};
}

inline double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}
inline double FractionEqual(const torch::Tensor& a, const torch::Tensor& b) {
  return a.reshape(-1).eq(b.reshape(-1)).to(torch::kFloat64).mean().item<double>();
}

}  // namespace segtune::testing
