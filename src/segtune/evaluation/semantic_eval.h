// `segtune eval` over records: predicted class maps (as `segtune infer` writes them) against ground
// truth, accumulated into evaluation/semantic_metrics.h's confusion matrix — the code `segtune train` evaluates
// with, so both report the same numbers. Torch-free.
//
// Predictions: `image/segmentation/class/predicted` (8-bit PNG of class ids).
// Ground truth: `image/segmentation/class/encoded`, or rasterized from instance masks
// (data/semantic_target.h), read from the ground-truth records — or, without them, from the
// prediction records themselves (`segtune infer` keeps the input keys).
// Matching: by image/source_id when every prediction and ground-truth record has a non-empty, unique
// one; otherwise by record order (then both sides must have the same number of records).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "segtune/evaluation/semantic_gallery.h"

#include "segtune/evaluation/semantic_metrics.h"

namespace segtune {

struct SemanticEvalOptions {
  std::string predictions;   // TFRecord spec (ExpandInputPaths: lists, globs, shards).
  std::string groundtruth;   // TFRecord spec; empty = ground truth from the prediction records.
  int num_classes = 0;       // 0 = length of image/segmentation/class/fraction, else the largest id seen + 1.
  int ignore_label = 255;
  std::vector<std::string> class_names;  // Optional (index = class id).
  size_t gallery = 48;                    // Thumbnails of this many worst images (semantic_gallery.h).
};

struct SemanticEvalResult {
  SemanticMetrics metrics;
  int64_t images = 0;
  std::string matched_by;            // "image/source_id" or "record order".
  std::vector<std::string> warnings;  // Unmatched predictions, size mismatches, unknown labels.
  std::vector<ImageScore> image_scores;  // Every scored image, in input order.
  std::vector<GalleryEntry> gallery;     // The worst images' thumbnails, worst first.
};

// Throws IoError/FormatError naming the file and record for unreadable records or PNGs, and
// FormatError when nothing could be matched.
SemanticEvalResult EvaluateSemanticRecords(const SemanticEvalOptions& request);

}  // namespace segtune
