#include "segtune/report/run_data.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"

namespace segtune::report {
namespace {

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();  // getline drops a trailing empty cell.
  return cells;
}

double ParseCell(const std::string& cell, const std::filesystem::path& source, size_t line) {
  if (cell.empty()) return std::numeric_limits<double>::quiet_NaN();
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != cell.size()) {
    throw FormatError(source, "line " + std::to_string(line), "expected a number or an empty cell, found '" + cell + "'");
  }
  return value;
}

nlohmann::json ReadJson(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(ReadFile(path));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path, "", std::string("not valid JSON (") + e.what() + ")");
  }
}

// A metrics.json of any verb, sorted into the run's fields.
void ReadMetricsJson(const std::filesystem::path& path, RunData* run) {
  const nlohmann::json j = ReadJson(path);
  if (!j.is_object()) throw FormatError(path, "", "expected a JSON object (a segtune metrics.json)");
  if (j.contains("mean_iou") && j.contains("per_class")) {
    run->semantic = j;
  } else if (j.contains("bbox")) {
    run->coco.push_back(j["bbox"]);
    if (j.contains("segm")) run->coco.push_back(j["segm"]);
    run->detection_matched_by = j.value("matched_by", "");
  } else if (j.contains("stats") && j.contains("iou_type")) {
    run->coco.push_back(j);
  } else {
    throw FormatError(path, "", "not a metrics.json of `segtune eval` or `segtune coco-eval` (expected mean_iou, "
                                "bbox or stats)");
  }
  if (j.contains("error_breakdown") && j["error_breakdown"].is_object()) run->error_breakdown = j["error_breakdown"];
  if (j.contains("image_scores") || j.contains("gallery")) {
    run->gallery = nlohmann::json{{"image_scores", j.value("image_scores", nlohmann::json::array())},
                                  {"gallery", j.value("gallery", nlohmann::json::array())},
                                  {"gallery_ranked_by", j.value("gallery_ranked_by", "mean_iou")}};
  }
}

}  // namespace

int MetricsTable::Column(const std::string& name) const {
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c] == name) return static_cast<int>(c);
  }
  return -1;
}

MetricsTable ParseMetricsCsv(const std::string& text, const std::filesystem::path& source) {
  MetricsTable table;
  std::stringstream in(text);
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells = SplitCsvLine(line);
    if (table.columns.empty()) {
      table.columns = std::move(cells);
      continue;
    }
    if (cells.size() != table.columns.size()) {
      throw FormatError(source, "line " + std::to_string(number),
                        "expected " + std::to_string(table.columns.size()) + " cells like the header, found " +
                            std::to_string(cells.size()));
    }
    std::vector<double> row;
    for (const std::string& cell : cells) row.push_back(ParseCell(cell, source, number));
    table.rows.push_back(std::move(row));
  }
  if (table.columns.empty()) throw FormatError(source, "", "empty: expected a header row");
  return table;
}

RunData LoadRun(const std::filesystem::path& path) {
  RunData run;
  if (!std::filesystem::exists(path)) {  // A shard pattern ("train.record-*", "train.record@4")?
    std::vector<std::filesystem::path> shards;
    try {
      shards = ExpandInputPaths(path.string());
    } catch (const Error&) {
    }
    if (shards.empty()) throw IoError(path.string() + ": not found");
    run.path = path;
    run.name = path.string();
    run.records = InspectRecords(shards);
    return run;
  }
  run.path = path;
  // The path as given (a run's files have generic names: train/, metrics.json), without a trailing '/'.
  run.name = path.lexically_normal().string();
  if (run.name.size() > 1 && run.name.back() == '/') run.name.pop_back();
  if (std::filesystem::is_directory(path)) {
    const bool train = std::filesystem::exists(path / "metrics.csv");
    const bool exported = std::filesystem::exists(path / "model.json");
    if (!train && !exported) {
      throw UsageError(path.string() + ": neither a training directory (metrics.csv) nor an export directory "
                                       "(model.json)");
    }
    if (train) run.curves = ParseMetricsCsv(ReadFile(path / "metrics.csv"), path / "metrics.csv");
    if (exported) run.model = ReadJson(path / "model.json");
    return run;
  }
  if (path.extension() == ".csv") {
    run.curves = ParseMetricsCsv(ReadFile(path), path);
    return run;
  }
  if (path.filename() == "model.json") {
    run.model = ReadJson(path);
    return run;
  }
  if (path.extension() == ".json") {
    ReadMetricsJson(path, &run);
    return run;
  }
  run.records = InspectRecords({path});  // Anything else is taken as a TFRecord file.
  if (run.records->records == 0 && !run.records->problems.empty()) {
    throw FormatError(path, "", "not a TFRecord file, metrics.json, metrics.csv or run directory (" +
                                    run.records->problems.front() + ")");
  }
  return run;
}

}  // namespace segtune::report
