// `segtune coco-eval`: load a COCO ground truth and a results file, evaluate, and write metrics.json.
// The CLI prints the pycocotools summary (and optionally the per-class table) from the result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "segtune/evaluation/coco_eval.h"

namespace segtune {

struct CocoEvalOptions {
  std::filesystem::path gt;       // instances.json
  std::filesystem::path dt;       // results.json
  std::string type = "bbox";      // "bbox" | "segm"
  std::vector<std::string> img_ids;  // Empty: all.
  std::vector<int64_t> cat_ids;      // Empty: all.
  std::vector<int> max_dets = {1, 10, 100};
  bool per_class = false;
  bool use_cats = true;  // false: --no-cats, pycocotools' params.useCats = 0 (categories ignored).
  std::filesystem::path output;  // metrics.json; empty: next to the results file.
  bool overwrite = false;        // Replace an existing output that is a JSON object (core/output_guard.h).
  int threads = 0;
};

struct CocoEvalCommandResult {
  CocoEvalResult eval;
  // Results left out (on images or categories not in the ground truth), one sentence each, naming
  // the results file: pycocotools refuses such a file, so the user must hear of it.
  std::vector<std::string> warnings;
  std::filesystem::path output;  // The metrics.json written.
};

// Throws FormatError/IoError for unreadable inputs, UsageError for bad options and (before loading
// anything) for an output that exists and may not be replaced.
CocoEvalCommandResult RunCocoEvalCommand(const CocoEvalOptions& options);

// Whether the first element of a results array has a non-empty "bbox" — COCO.loadRes's test for
// box results. False for an empty array. Throws FormatError if the file is not a JSON array.
bool FirstResultHasBox(const std::filesystem::path& results_path);

}  // namespace segtune
