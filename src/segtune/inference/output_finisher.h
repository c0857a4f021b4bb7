// The in-order end of the inference pipeline (inference_pipeline.h), on the calling thread: whatever
// the task, each finished image gets a unique name, its files (--masks-dir, --overlays-dir), its COCO
// results, its sink call and its output record, in input order; skipped items are reported and counted.
#pragma once

#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "segtune/core/progress.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/inference/inference_pipeline.h"

namespace segtune {

class OutputFinisher {
 public:
  // Opens options.output (temp file, renamed by Close). `summary` and `progress` are updated per image.
  OutputFinisher(const InferenceOptions& options, InferenceSummary& summary, Progress& progress);

  // One image, in input order. Throws FormatError for a skipped item when the options do not skip
  // (CheckSkippable), IoError when an output cannot be written.
  void Finish(PipelineImage& image);

  // Completes the output record file and writes the COCO results (both via a temp file + rename).
  void Close();

 private:
  void Skip(const PipelineImage& image);

  const InferenceOptions& options_;
  InferenceSummary& summary_;
  Progress& progress_;
  std::unique_ptr<TFRecordWriter> writer_;
  std::set<std::string> used_names_;
  nlohmann::json coco_ = nlohmann::json::array();
};

}  // namespace segtune
