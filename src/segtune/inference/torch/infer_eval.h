// `segtune eval`: metrics of predictions against ground truth, either from records `segtune infer`
// wrote (evaluation/semantic_eval.h) or by running an export directory over ground-truth records.
// Writes metrics.json and optionally a TensorBoard event file with the eval/* scalars `segtune train`
// logs; the CLI prints the table (FormatEvalCommandResult).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "segtune/evaluation/detection_eval.h"
#include "segtune/evaluation/semantic_eval.h"

namespace segtune {

struct EvalOptions {
  std::string predictions;         // Records from `segtune infer` ...
  std::string groundtruth;         // ... and their ground truth (optional: else read from predictions).
  std::filesystem::path model;     // Or: an export directory ...
  std::string data;                // ... run over these ground-truth records.
  std::filesystem::path output = "metrics.json";
  bool overwrite = false;          // Replace an existing output that is a JSON object (core/output_guard.h).
  std::filesystem::path logdir;    // TensorBoard; empty = none.
  std::string label_map;           // Class names (the bundle's are used with --model).
  int num_classes = 0;
  int ignore_label = 255;
  int threads = 1;
  int batch_size = 4;
  std::string device = "cpu";
  std::string engine = "onednn";  // InferenceOptions::engine, for --model.
  size_t gallery = 48;  // Semantic: thumbnails of this many worst images in metrics.json (0 = none).
};

// Runs the model over records and accumulates the confusion matrix (ground truth as in semantic_eval.h;
// matched by construction). Throws like RunInference.
SemanticEvalResult EvaluateModelOnRecords(const EvalOptions& command, std::vector<std::string>* class_names);

// The same for a detection export directory: COCO box (and mask) AP of its detections on the records.
DetectionEvalResult EvaluateDetectionModelOnRecords(const EvalOptions& command, std::vector<std::string>* class_names);

// What `segtune eval` measured: exactly one of semantic and detection is set.
struct EvalCommandResult {
  std::optional<SemanticEvalResult> semantic;        // Semantic predictions or model: mIoU and the per-class table.
  std::optional<DetectionEvalResult> detection;  // Detection predictions or bundle: COCO box (and mask) AP.
  std::vector<std::string> class_names;          // --label-map's, else the model's; may be empty.
  std::filesystem::path output;                  // The metrics.json written.
  // The set result's warnings (unmatched predictions, ...), for the log.
  const std::vector<std::string>& warnings() const;
};

// The whole verb (a detection bundle, or prediction records with image/detection keys and no
// semantic prediction, are scored with evaluation/detection_eval.h): evaluates and writes the
// outputs. Throws UsageError for a bad combination of options, and (before evaluating) when
// command.output exists and may not be replaced (CheckOutputFile).
EvalCommandResult RunEvalCommand(const EvalOptions& command);

// What `segtune eval` prints: "N images, matched by ..." and the metrics table (semantic_metrics.h) or the
// pycocotools summaries (detection_eval.h). The warnings in the result are not included: they go to
// the log.
std::string FormatEvalCommandResult(const EvalCommandResult& result);

}  // namespace segtune
