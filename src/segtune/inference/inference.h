// `segtune infer`: run an exported model over TFRecords or images and write the predictions
// (docs/inference.md lists every key and file). The model's kind picks the task: a semantic
// segmentation export (semantic_inference.h: class maps) or a detection export (detection_inference.h:
// boxes, and instance masks for Mask R-CNN). Both run through one pipeline (inference_pipeline.h).
//
//   InferenceOptions options;
//   options.model = "model/fine_tuned_model";
//   options.inputs = {"data/test.record"};
//   options.output = "data/inference.record";
//   InferenceSummary summary = RunInference(options);
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace segtune {

struct InferenceOptions {
  std::filesystem::path model;      // Export directory, or an .onnx file (see LoadSemanticInferenceModel).
  std::vector<std::string> inputs;  // See infer_inputs.h.
  std::filesystem::path output;     // TFRecord to write; empty = none.
  bool discard_image_pixels = false;  // Drop image/encoded from the output records.
  // PNGs <name>.png; empty = none. Semantic: the class-index map. Detection (Mask R-CNN only): the
  // instance-index map (docs/inference.md).
  std::filesystem::path masks_dir;
  std::filesystem::path overlays_dir;  // Overlay JPEGs <name>.jpg; empty = none.
  std::filesystem::path coco_results;  // COCO results JSON; empty = none.
  int batch_size = 4;
  int threads = 1;
  std::string device = "cpu";
  // On the CPU: "onednn" (convolutions in oneDNN kernels, export/conv_kernels.h; for detection
  // models the backbone's, export/prepare_detection.h) or "torch" (LibTorch throughout). Other
  // devices always run LibTorch.
  std::string engine = "onednn";
  // Replace existing outputs: --output only if it is a TFRecord, --coco-results only if a JSON array,
  // a non-empty --masks-dir/--overlays-dir only if it holds nothing but .png/.jpg files. Without it
  // any existing output is a UsageError (CheckInferenceOutputs).
  bool overwrite = false;
  // true (infer): an unreadable record or image is reported and skipped. false (eval --model without
  // --skip-corrupt): it throws FormatError naming it, since metrics over a silently smaller set would
  // look whole.
  bool skip_unreadable = true;
};

struct InferenceSummary {
  int64_t images = 0;     // Predicted.
  int64_t skipped = 0;    // Unreadable records/images.
  int64_t regions = 0;    // Detections written (semantic: connected regions; detection: objects).
  std::vector<std::string> problems;  // One line per skipped item or corrupt TFRecord span.
  double seconds = 0;
  std::vector<std::string> class_names;  // From the bundle.
  int64_t num_classes = 0;
  // Thread-seconds per stage, summed over the threads that ran it, in pipeline order: "decode", the
  // task's stages (semantic: "normalize", "forward", "argmax", "regions", "png", "overlay"; detection:
  // "normalize", "forward", "objects", "masks", "overlay", "coco"), "record", "write".
  std::vector<std::pair<std::string, double>> stage_seconds;
};

// Throws FormatError for `problem` (a skipped item's message) unless the options skip unreadable items.
void CheckSkippable(const InferenceOptions& options, const std::string& problem);

// Throws UsageError unless every output of `options` may be written (core/output_guard.h). Called
// before the model loads and anything is read.
void CheckInferenceOutputs(const InferenceOptions& options);

// Runs RunDetectionInference for a detection export directory (or a file inside one), else
// RunSemanticInference. Throws IoError/FormatError for unreadable inputs as a whole or unwritable
// outputs, UsageError for options the model cannot serve.
InferenceSummary RunInference(const InferenceOptions& options);

// "skipped 2 unreadable item(s):\n  <problem>\n..." or "" when nothing was skipped.
std::string FormatInferenceProblems(const InferenceSummary& summary);
// "decode 1.20 s, forward 8.10 s, ..." from summary.stage_seconds.
std::string FormatStageSeconds(const InferenceSummary& summary);

}  // namespace segtune
