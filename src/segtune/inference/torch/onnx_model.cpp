#include "segtune/inference/torch/onnx_model.h"

#include <onnx/onnx_pb.h>

#include <map>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/core/split_text.h"
#include "segtune/export/onnx_export.h"
#include "segtune/inference/class_argmax.h"

namespace segtune {

namespace {

int64_t DeclaredDim(const onnx::ValueInfoProto& value, int axis) {
  const auto& shape = value.type().tensor_type().shape();
  if (axis >= shape.dim_size() || !shape.dim(axis).has_dim_value()) return 0;
  return shape.dim(axis).dim_value();
}

// Reads classes, class count, input name/type/size from the protobuf into *model.
void ReadDescription(const onnx::ModelProto& proto, OnnxModel* model) {
  const auto& path = model->path;
  std::map<std::string, std::string> props;
  for (const auto& p : proto.metadata_props()) props[p.key()] = p.value();
  const auto& graph = proto.graph();
  if (graph.input_size() == 0) throw FormatError(path, "graph", "has no input");
  const onnx::ValueInfoProto& input = graph.input(0);
  model->input_name = input.name();
  model->uint8_input = input.type().tensor_type().elem_type() == onnx::TensorProto::UINT8;
  model->height = static_cast<int>(DeclaredDim(input, 2));
  model->width = static_cast<int>(DeclaredDim(input, 3));
  if (props.count("num_classes")) {
    try {
      model->num_classes = std::stoll(props["num_classes"]);
    } catch (const std::exception&) {
      throw FormatError(path, "metadata num_classes", "an integer expected, got \"" + props["num_classes"] + "\"");
    }
  }
  if (model->num_classes == 0) {
    for (const auto& output : graph.output()) {
      if (output.name() == "logits") model->num_classes = DeclaredDim(output, 1);
    }
  }
  if (model->num_classes < 1 || model->num_classes > 256) {
    throw FormatError(path, "metadata num_classes",
                      "a class count in 1..256 expected (the graph of `segtune export` has one)");
  }
  if (props.count("classes")) model->class_names = SplitFields(props["classes"]);
  model->class_names.resize(static_cast<size_t>(model->num_classes));
}

}  // namespace

OnnxModel LoadOnnxModel(const std::filesystem::path& path) {
  OnnxModel model;
  model.path = path;
  ReadDescription(ReadOnnx(path), &model);
  try {
    model.net = cv::dnn::readNetFromONNX(path.string());
  } catch (const cv::Exception& e) {
    throw UsageError(path.string() + ": OpenCV DNN cannot import this graph" +
                     (model.height == 0 ? " (a dynamic-size export; re-export with --input-size HxW)" : "") + ": " +
                     e.what());
  }
  model.net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  model.net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return model;
}

void PredictOnnx(OnnxModel& model, const cv::Mat& bgr, cv::Mat* class_map, cv::Mat* probability) {
  const cv::Size size = model.height > 0 ? cv::Size(model.width, model.height) : bgr.size();
  cv::Mat resized = bgr;
  if (size != bgr.size()) cv::resize(bgr, resized, size, 0, 0, cv::INTER_LINEAR);
  const cv::Mat blob = model.uint8_input
                           ? cv::dnn::blobFromImage(resized, 1.0, {}, {}, /*swapRB=*/true, false, CV_8U)
                           : cv::dnn::blobFromImage(resized, 1.0 / 255.0, {}, {}, /*swapRB=*/true, false, CV_32F);
  cv::Mat logits;
  try {
    model.net.setInput(blob, model.input_name);
    logits = model.net.forward("logits");
  } catch (const cv::Exception& e) {
    throw UsageError(model.path.string() + ": OpenCV DNN failed on a " + std::to_string(size.width) + "x" +
                     std::to_string(size.height) + " input" +
                     (model.height == 0 ? " (a dynamic-size export; re-export with --input-size HxW)" : "") + ": " +
                     e.what());
  }
  if (logits.dims != 4 || logits.size[1] != model.num_classes || logits.size[2] != size.height ||
      logits.size[3] != size.width) {
    throw FormatError(model.path, "output logits", "[1, " + std::to_string(model.num_classes) + ", H, W] expected");
  }
  const int classes = static_cast<int>(model.num_classes);
  const int64_t plane = static_cast<int64_t>(size.area());
  const float* data = logits.ptr<float>();
  cv::Mat upsampled;
  if (size != bgr.size()) {  // Logits back at the image's size, class by class, then the argmax.
    upsampled.create(classes, static_cast<int>(bgr.total()), CV_32F);
    for (int c = 0; c < classes; ++c) {
      const cv::Mat src(size, CV_32F, const_cast<float*>(data + c * plane));
      cv::Mat dst(bgr.size(), CV_32F, upsampled.ptr<float>(c));
      cv::resize(src, dst, bgr.size(), 0, 0, cv::INTER_LINEAR);
    }
    data = upsampled.ptr<float>();
  }
  class_map->create(bgr.size(), CV_8UC1);
  probability->create(bgr.size(), CV_32FC1);
  ClassArgmax(data, classes, static_cast<int64_t>(bgr.total()), static_cast<int64_t>(bgr.total()), class_map->data,
              probability->ptr<float>());
}

}  // namespace segtune
