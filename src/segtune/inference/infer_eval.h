// `segtune eval`: metrics of predictions against ground truth, either from records `segtune infer`
// wrote (evaluation/semseg_eval.h) or by running an export directory over ground-truth records.
// Prints the table (evaluation/semseg.h), writes metrics.json and optionally a TensorBoard event file
// with the eval/* scalars `segtune train` logs.
#pragma once

#include <filesystem>
#include <string>

#include "segtune/evaluation/detection_eval.h"
#include "segtune/evaluation/semseg_eval.h"

namespace segtune {

struct EvalCommand {
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
};

// Runs the model over records and accumulates the confusion matrix (ground truth as in semseg_eval.h;
// matched by construction). Throws like RunInference.
SemsegEvalResult EvaluateModelOnRecords(const EvalCommand& command, std::vector<std::string>* class_names);

// The same for a detection export directory: COCO box (and mask) AP of its detections on the records.
DetectionEvalResult EvaluateDetectionModelOnRecords(const EvalCommand& command, std::vector<std::string>* class_names);

// The whole verb (a detection bundle, or prediction records with image/detection keys and no
// semantic prediction, are scored with evaluation/detection_eval.h): evaluates, prints the table and warnings to stdout, writes the outputs. Returns the
// exit code (0). Throws UsageError for a bad combination of options, and (before evaluating) when
// command.output exists and may not be replaced (CheckOutputFile).
int RunEvalCommand(const EvalCommand& command);

}  // namespace segtune
