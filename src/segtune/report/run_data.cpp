#include "segtune/report/run_data.h"

#include <algorithm>
#include <fstream>

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

// The number of values in a safetensors file, from its header alone (the weights are not read);
// nullopt if it is not a readable safetensors file.
std::optional<int64_t> SafetensorsParameterCount(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char size_bytes[8];
  if (!in.read(reinterpret_cast<char*>(size_bytes), 8)) return std::nullopt;
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = header_size << 8 | size_bytes[i];
  constexpr uint64_t kMaxHeader = 100 << 20;  // The format's own limit.
  std::error_code ec;
  if (header_size == 0 || header_size > kMaxHeader || header_size + 8 > std::filesystem::file_size(path, ec)) {
    return std::nullopt;
  }
  std::string header(header_size, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_size))) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  int64_t total = 0;
  for (const auto& [name, tensor] : j.items()) {
    if (name == "__metadata__" || !tensor.is_object() || !tensor.contains("shape")) continue;
    int64_t n = 1;
    for (const auto& d : tensor["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t(1) << 40)) return std::nullopt;
      n *= static_cast<int64_t>(d.get<uint64_t>());
      if (n > (int64_t(1) << 50)) return std::nullopt;
    }
    total += n;
  }
  return total;
}

// model.json, the directory's files and the weights' parameter count: the model card.
void ReadExportDirectory(const std::filesystem::path& dir, RunData* run) {
  run->model = ReadJson(dir / "model.json");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::error_code ec;
    if (entry.is_regular_file(ec)) run->export_files.emplace_back(entry.path().filename().string(), entry.file_size(ec));
  }
  std::sort(run->export_files.begin(), run->export_files.end());
  const std::string weights = run->model->value("weights", "");
  // Only a plain file name inside the directory: model.json is input, and must not point elsewhere.
  if (!weights.empty() && weights.find('/') == std::string::npos && weights.find('\\') == std::string::npos &&
      weights != "." && weights != "..") {
    run->parameters = SafetensorsParameterCount(dir / weights);
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
    if (exported) ReadExportDirectory(path, &run);
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
