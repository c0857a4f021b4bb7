// `segtune infer` with a semantic segmentation export: the class map of every image, through the
// inference pipeline (inference_pipeline.h) with the semantic task below.
//
// Output records: the input Example plus
//   image/segmentation/class/predicted        bytes   8-bit gray PNG, value = predicted class id
//   image/segmentation/class/predicted/format bytes   "png"
//   image/segmentation/class/fraction         floats  fraction of pixels per class id (size num_classes)
//   image/detection/bbox/{ymin,xmin,ymax,xmax} floats one per connected region (8-connectivity) of a
//                                                      non-background class, normalized, TF order
//   image/detection/score                     floats  mean softmax probability of the class over the region
//   image/detection/label                     int64   the region's class id
// Image inputs get an Example with image/encoded, format, filename, source_id (the file name), height
// and width. Preprocessing: RGB in [0,1] normalized with the bundle's mean/std at the image's own size
// (the models are fully convolutional and return logits at the input size). --masks-dir gets the
// class-index PNG (the predicted key's bytes).
//
// The task's part of a worker's batch: normalize, the model up to its classifier, the class map (the
// models' final resize fused into the argmax, class_argmax.h, so the full-size logits never exist),
// regions, PNG, overlay.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "example.pb.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/inference/inference.h"
#include "segtune/inference/semantic_task.h"
#include "segtune/inference/torch/onnx_model.h"

namespace segtune {

// What semantic inference runs: an export directory with LibTorch, or a lone .onnx file with OpenCV DNN.
struct SemanticInferenceModel {
  SemanticBundle bundle;             // Export directory: bundle.model is set.
  std::shared_ptr<OnnxModel> onnx;   // Lone .onnx file: set instead (see onnx_model.h).
  std::vector<std::string> class_names;
  int64_t num_classes = 0;
};

// An export directory loads its bundle (LibTorch); an .onnx file with a model.json beside it loads
// that bundle (same weights, faster); a lone .onnx file runs in OpenCV DNN. Throws IoError (missing),
// FormatError (malformed) or UsageError (neither a directory nor an .onnx file).
SemanticInferenceModel LoadSemanticInferenceModel(const std::filesystem::path& model);

// Checks the outputs (CheckInferenceOutputs), loads options.model and runs it. Calls `sink` (if set)
// for each image in input order. Throws like RunInference.
InferenceSummary RunSemanticInference(const InferenceOptions& options, const SemanticSink& sink = {});
InferenceSummary RunSemanticInference(SemanticInferenceModel& model, const InferenceOptions& options,
                                      const SemanticSink& sink = {});

}  // namespace segtune
