// What `segtune report` reads from each RUN it is given, recognized by its layout:
//   a training directory   metrics.csv (curves), pipeline.config; its own model.json if any
//   an export directory    model.json (the model card)
//   TFRecord files         a file or a shard pattern ("data/train.record-*"): the dataset section
//   a metrics.json         written by `segtune eval` (semantic: mean_iou, per_class, confusion_matrix;
//                          detection: bbox / segm COCOeval objects) or by `segtune coco-eval`
//                          (one COCOeval object: iou_type, stats, per_class); either may carry an
//                          error_breakdown (detection errors by type) and a gallery
// Fields that are absent are left empty; the report shows a section only when its data exists.
#pragma once

#include <filesystem>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/data/records.h"

namespace segtune::report {

// metrics.csv: a header row, then one row per logged step; an empty cell (no evaluation at that
// step) is NaN.
struct MetricsTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // rows[i][c] for columns[c].
  // Index of `name` in columns, or -1.
  int Column(const std::string& name) const;
};

struct RunData {
  std::string name;                  // Legend label: the path as given ("finetuned/train").
  std::filesystem::path path;
  std::optional<MetricsTable> curves;            // Training directory.
  std::optional<nlohmann::json> model;           // model.json.
  std::vector<std::pair<std::string, uintmax_t>> export_files;  // The export directory's files and sizes.
  std::optional<int64_t> parameters;             // Weights in model.json's "weights" file (its header).
  std::optional<nlohmann::json> semantic;        // Semantic metrics.json.
  std::vector<nlohmann::json> coco;              // COCOeval objects (bbox, segm), from eval or coco-eval.
  std::string detection_matched_by;              // eval's "matched_by" for detection metrics.
  std::optional<nlohmann::json> error_breakdown; // Detection errors by type (evaluation/error_breakdown.h).
  // eval's per-image scores and worst images (evaluation/image_gallery.h): "image_scores", "gallery" and
  // "gallery_ranked_by" of metrics.json, semantic or detection.
  std::optional<nlohmann::json> gallery;
  std::optional<RecordsInfo> records;            // TFRecord files (records info).
};

// Parses metrics.csv text. Throws FormatError naming `source` and the line for a row with a
// different number of cells than the header or a cell that is not a number.
MetricsTable ParseMetricsCsv(const std::string& text, const std::filesystem::path& source);

// Reads RUN. Throws IoError if it does not exist, UsageError if it is none of the layouts above,
// FormatError naming the file for malformed JSON or CSV.
RunData LoadRun(const std::filesystem::path& path);

}  // namespace segtune::report
