// `segtune infer`: run an exported model over TFRecords or images and write the predictions
// (docs/inference.md lists every key and file).
//
//   InferenceOptions request;
//   request.model = "model/fine_tuned_model";
//   request.inputs = {"data/test.record"};
//   request.output = "data/inference.record";
//   InferenceSummary summary = RunInference(request);
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
// (the models are fully convolutional and return logits at the input size).
// A record or image that cannot be parsed or decoded is skipped and listed in the summary (unless
// request.skip_unreadable is false).
//
// Pipeline: the calling thread reads the inputs in batches; each of --threads workers takes a whole
// batch (decode, model, class map, regions, PNG, overlay, serialized record) on one core; the calling
// thread writes the outputs in input order. The models' final resize is fused into the class map
// computation (class_argmax.h), so the full-size logits never exist.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "example.pb.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/inference/onnx_model.h"

namespace segtune {

struct InferenceOptions {
  std::filesystem::path model;      // Export directory, or an .onnx file (see LoadInferenceModel).
  std::vector<std::string> inputs;  // See infer_inputs.h.
  std::filesystem::path output;     // TFRecord to write; empty = none.
  bool discard_image_pixels = false;  // Drop image/encoded from the output records.
  std::filesystem::path masks_dir;     // Class-index PNGs <name>.png; empty = none.
  std::filesystem::path overlays_dir;  // Overlay JPEGs <name>.jpg; empty = none.
  std::filesystem::path coco_results;  // COCO results JSON; empty = none.
  int batch_size = 4;
  int threads = 1;
  std::string device = "cpu";
  // Replace existing outputs: --output only if it is a TFRecord, --coco-results only if a JSON array,
  // a non-empty --masks-dir/--overlays-dir only if it holds nothing but .png/.jpg files. Without it
  // any existing output is a UsageError (CheckInferenceOutputs).
  bool overwrite = false;
  // true (infer): an unreadable record or image is reported and skipped. false (eval --model without
  // --skip-corrupt): it throws FormatError naming it, since metrics over a silently smaller set would
  // look whole.
  bool skip_unreadable = true;
};

// Throws FormatError for `problem` (a skipped item's message) unless the request skips unreadable items.
void CheckSkippable(const InferenceOptions& request, const std::string& problem);

// Throws UsageError unless every output of `request` may be written (core/output_guard.h). Called by
// RunInference before anything is read.
void CheckInferenceOutputs(const InferenceOptions& request);

// One predicted image, as handed to a PredictionSink.
struct ImagePrediction {
  std::string source;              // "test.record: record 3" or the image path.
  std::string name;                // File-name stem used for side outputs.
  const tensorflow::Example* example = nullptr;  // The input record (with the predictions added).
  cv::Mat image;                   // BGR, original size.
  cv::Mat class_map;               // CV_8UC1, original size.
  cv::Mat probability;             // CV_32FC1: softmax probability of the predicted class.
};
using PredictionSink = std::function<void(const ImagePrediction&)>;

struct InferenceSummary {
  int64_t images = 0;     // Predicted.
  int64_t skipped = 0;    // Unreadable records/images.
  int64_t regions = 0;    // Detections written.
  std::vector<std::string> problems;  // One line per skipped item or corrupt TFRecord span.
  double seconds = 0;
  std::vector<std::string> class_names;  // From the bundle.
  int64_t num_classes = 0;
  // Seconds per stage, summed over the threads that ran it ("decode", "normalize", "forward",
  // "argmax", "regions", "png", "overlay", "record", "write"), in pipeline order.
  std::vector<std::pair<std::string, double>> stage_seconds;
};

// What `segtune infer` runs: an export directory with LibTorch, or a lone .onnx file with OpenCV DNN.
struct InferenceModel {
  SemanticBundle bundle;                     // Export directory: bundle.model is set.
  std::shared_ptr<OnnxModel> onnx;   // Lone .onnx file: set instead (see onnx_model.h).
  std::vector<std::string> class_names;
  int64_t num_classes = 0;
};

// An export directory loads its bundle (LibTorch); an .onnx file with a model.json beside it loads
// that bundle (same weights, faster); a lone .onnx file runs in OpenCV DNN. Throws IoError (missing),
// FormatError (malformed) or UsageError (neither a directory nor an .onnx file).
InferenceModel LoadInferenceModel(const std::filesystem::path& model);

// Runs inference as described at the top. Calls `sink` (if set) for each image in input order.
// A detection export directory runs RunDetectionInference (detection_inference.h) instead; `sink` is not called.
// Throws IoError/FormatError for unreadable inputs as a whole or unwritable outputs.
InferenceSummary RunInference(const InferenceOptions& request, const PredictionSink& sink = {});
InferenceSummary RunInference(InferenceModel& model, const InferenceOptions& request, const PredictionSink& sink = {});

// "Skipped 2 of 10 images:\n  <problem>\n..." or "" when nothing was skipped.
std::string FormatInferenceProblems(const InferenceSummary& summary);
// "decode 1.2 s, forward 8.1 s, ..." from summary.stage_seconds.
std::string FormatStageSeconds(const InferenceSummary& summary);

}  // namespace segtune
