// The semantic segmentation task of `segtune infer`'s pipeline (inference_pipeline.h), whatever
// computes the class maps (LibTorch, OpenCV DNN: torch/semantic_inference.h; the LibTorch-free
// runtime: native_semantic_inference.h). It owns everything after the model: regions, the class-index
// PNG, overlay, prediction keys and COCO results (the keys are listed in torch/semantic_inference.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "example.pb.h"
#include "segtune/inference/class_argmax.h"
#include "segtune/inference/inference_pipeline.h"

namespace segtune {

// One predicted image, as handed to a SemanticSink.
struct SemanticImage {
  std::string source;              // "test.record: record 3" or the image path.
  std::string name;                // File-name stem used for side outputs.
  const tensorflow::Example* example = nullptr;  // The input record (with the predictions added).
  cv::Mat image;                   // BGR, original size.
  cv::Mat class_map;               // CV_8UC1, original size.
  cv::Mat probability;             // CV_32FC1: softmax probability of the predicted class.
};

using SemanticSink = std::function<void(const SemanticImage&)>;

// One image's class map and the softmax probability of its class, at the image's size.
struct ClassMaps {
  cv::Mat class_map;    // CV_8UC1.
  cv::Mat probability;  // CV_32FC1.
};

class SemanticTask : public InferenceTask {
 public:
  SemanticTask(std::vector<std::string> class_names, int64_t num_classes, const InferenceOptions& options,
               const SemanticSink& sink);
  void Predict(const std::vector<PipelineImage*>& images, StageClock& clock) const final;

 protected:
  // The class maps of `images` (maps has one slot per image), timed under "normalize", "forward" and
  // "argmax" as the model allows.
  virtual void PredictClassMaps(const std::vector<PipelineImage*>& images, std::vector<ClassMaps>& maps,
                                StageClock& clock) const = 0;

 private:
  void PostProcess(PipelineImage* image, ClassMaps maps, StageClock& clock) const;

  std::vector<std::string> class_names_;
  int64_t num_classes_;
  SemanticSink sink_;  // A copy: callers may pass a temporary.
};

// BGR uint8 images[begin, end) (one size) -> the models' input in NHWC order at `out` (n x H x W x 3
// floats): RGB, (x / 255 - mean) / std, the same float operations as the reference preprocessing, in
// one pass over the decoded pixels. Rows are split over the calling thread's OpenMP threads.
void NormalizeImages(const std::vector<PipelineImage*>& images, size_t begin, size_t end, const float mean[3],
                     const float stdev[3], float* out);

// ClassMaps at h x w from one image's head logits (class_argmax.h: the final resize fused into the
// argmax). Rows are split over the calling thread's OpenMP threads.
ClassMaps ResizedClassMaps(const LogitsView& logits, int h, int w);

}  // namespace segtune
