// A lone .onnx file from `segtune export`, run with OpenCV DNN (no LibTorch, no model.json needed).
//
// Everything comes from the file: the class names and count from the metadata props "classes"
// (comma-separated) and "num_classes" (else the logits' declared channel count), the input name and
// element type (float RGB in [0, 1] or uint8 RGB 0..255; normalization is inside the graph) and the
// input size from the graph's declared input shape.
// Fixed-size graphs (`segtune export --input-size HxW`, the form OpenCV DNN imports): each image is
// resized (bilinear) to HxW, and the logits are resized back (bilinear, per class) before the argmax.
// Dynamic graphs are fed each image at its own size; OpenCV 4.6 usually cannot import their shape
// arithmetic, which LoadOnnxModel reports as a UsageError suggesting --input-size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

namespace segtune {

struct OnnxModel {
  std::filesystem::path path;
  cv::dnn::Net net;
  std::string input_name = "image";
  bool uint8_input = false;
  int height = 0, width = 0;  // Declared input size; 0 = dynamic.
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // Index = class id; "" where unnamed.
};

// Reads the metadata with the ONNX protobuf and imports the graph into OpenCV DNN. Throws IoError
// (missing file), FormatError (not an ONNX model, no class count) or UsageError (OpenCV cannot
// import the graph), each naming the file.
OnnxModel LoadOnnxModel(const std::filesystem::path& path);

// Predicts one BGR image (CV_8UC3): fills class_map (CV_8UC1) and probability (CV_32FC1, softmax
// probability of the predicted class) at the image's size. Not thread-safe (one Net).
void PredictOnnx(OnnxModel& model, const cv::Mat& bgr, cv::Mat* class_map, cv::Mat* probability);

}  // namespace segtune
