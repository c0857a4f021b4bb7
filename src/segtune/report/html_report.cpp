#include "segtune/report/html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "segtune/report/svg_chart.h"

namespace segtune::report {
namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{width:540px;max-width:100%;height:auto}
.chart text{font-size:11px;fill:#333}.chart .chart-title{font-size:13px;font-weight:600}
.chart .grid{stroke:#eee}.muted{color:#888;fill:#888}
.gallery{display:flex;flex-wrap:wrap;gap:10px}.gallery figure{margin:0;font-size:12px;max-width:490px}
.gallery img{display:block;max-width:100%;border:1px solid #ddd}.gallery figcaption{overflow-wrap:anywhere}
.gallery img.broken{border:2px solid #c00;min-width:80px;min-height:40px}
)";

// The page's only script: marks each gallery image with its decoded size, and outlines in red one
// that did not decode (a damaged metrics.json), so nobody mistakes a missing picture for a good one.
constexpr const char* kGalleryScript = R"(<script>
window.addEventListener("load", function () {
  document.querySelectorAll(".gallery img").forEach(function (img) {
    img.setAttribute("data-natural-size", img.naturalWidth + "x" + img.naturalHeight);
    if (!img.naturalWidth) img.classList.add("broken");
  });
});
</script>)";

// Gallery images shown per run, worst first; 200 thumbnails of ~20 KB keep the page under ~6 MB.
constexpr size_t kMaxGalleryImages = 200;

double Nan() { return std::numeric_limits<double>::quiet_NaN(); }

double JsonNumber(const nlohmann::json& j, const std::string& key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : Nan();
}

std::string Row(const std::vector<std::string>& cells, const char* tag = "td") {
  std::string s = "<tr>";
  for (const auto& c : cells) s += std::string("<") + tag + ">" + XmlEscape(c) + "</" + tag + ">";
  return s + "</tr>";
}

// Which metrics.csv columns share a chart: every loss term alone, the rest one chart each.
std::vector<std::string> CurveColumns(const std::vector<RunData>& runs) {
  std::vector<std::string> columns;
  for (const RunData& run : runs) {
    if (!run.curves) continue;
    for (const std::string& c : run.curves->columns) {
      if (c != "step" && c != "segment" && std::find(columns.begin(), columns.end(), c) == columns.end()) {
        columns.push_back(c);
      }
    }
  }
  return columns;
}

Series CurveOf(const RunData& run, const std::string& column) {
  Series s{run.name, {}};
  const int x = run.curves->Column("step"), y = run.curves->Column(column);
  if (y < 0) return s;
  for (size_t i = 0; i < run.curves->rows.size(); ++i) {
    const auto& row = run.curves->rows[i];
    s.points.emplace_back(x >= 0 ? row[x] : static_cast<double>(i), row[y]);
  }
  return s;
}

// Where a run was resumed: the last step of each segment that a later one continues (metrics.csv's
// segment column; the rows after the checkpoint were dropped on resume).
std::vector<double> ResumeSteps(const MetricsTable& t) {
  std::vector<double> steps;
  const int step = t.Column("step"), segment = t.Column("segment");
  if (step < 0 || segment < 0) return steps;
  for (size_t i = 1; i < t.rows.size(); ++i) {
    if (t.rows[i][segment] != t.rows[i - 1][segment]) steps.push_back(t.rows[i - 1][step]);
  }
  return steps;
}

// "last loss 0.31 at step 2000; best eval_miou 0.62 at step 1500".
std::string TrainingSummary(const RunData& run) {
  const MetricsTable& t = *run.curves;
  std::string s = std::to_string(t.rows.size()) + " logged steps";
  const int step = t.Column("step"), loss = t.Column("loss");
  if (!t.rows.empty() && loss >= 0) {
    s += "; last loss " + FormatNumber(t.rows.back()[loss]) + " at step " +
         FormatNumber(step >= 0 ? t.rows.back()[step] : Nan());
  }
  for (size_t c = 0; c < t.columns.size(); ++c) {
    if (t.columns[c].rfind("eval_", 0) != 0) continue;
    double best = Nan(), best_step = Nan();
    for (const auto& row : t.rows) {
      if (std::isfinite(row[c]) && !(row[c] <= best)) {
        best = row[c];
        best_step = step >= 0 ? row[step] : Nan();
      }
    }
    if (std::isfinite(best)) s += "; best " + t.columns[c] + " " + FormatNumber(best) + " at step " + FormatNumber(best_step);
  }
  const std::vector<double> resumes = ResumeSteps(t);
  if (!resumes.empty()) {
    s += "; resumed " + std::to_string(resumes.size()) + "x (after step";
    for (double at : resumes) s += " " + FormatNumber(at);
    s += ")";
  }
  return s;
}

// The first row holding the highest value of `column` (the row whose checkpoint the trainer kept as
// best, for the first eval column), or -1.
int BestRow(const MetricsTable& t, int column) {
  int best = -1;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (std::isfinite(t.rows[i][column]) && (best < 0 || t.rows[i][column] > t.rows[best][column])) best = int(i);
  }
  return best;
}

// The first eval_* column: what best.safetensors was chosen by (mIoU, box AP).
std::string FirstEvalColumn(const MetricsTable& t) {
  for (const auto& c : t.columns) {
    if (c.rfind("eval_", 0) == 0) return c;
  }
  return "";
}

// One chart of `column` over every run, with resumes as dashed lines and, for eval columns, the best
// value ringed.
LineChart TrainingChart(const std::vector<RunData>& runs, const std::string& column) {
  LineChart chart{column, "step", column, {}, {}, {}};
  for (const RunData& run : runs) {
    if (!run.curves) continue;
    const size_t i = chart.series.size();
    chart.series.push_back(CurveOf(run, column));
    for (double at : ResumeSteps(*run.curves)) {
      chart.lines.push_back({i, at, run.name + ": stopped after step " + FormatNumber(at) + ", resumed from its checkpoint"});
    }
    const int c = run.curves->Column(column), step = run.curves->Column("step");
    if (column.rfind("eval_", 0) != 0 || c < 0 || step < 0) continue;
    const int best = BestRow(*run.curves, c);
    if (best < 0) continue;
    const auto& row = run.curves->rows[static_cast<size_t>(best)];
    const bool kept = column == FirstEvalColumn(*run.curves);
    chart.markers.push_back({i, row[step], row[c],
                             run.name + ": best " + column + " " + FormatNumber(row[c]) + " at step " +
                                 FormatNumber(row[step]) + (kept ? " (best.safetensors)" : "")});
  }
  return chart;
}

std::string TrainingSection(const std::vector<RunData>& runs) {
  std::string html = "<section id=\"training\"><h2>Training</h2><ul>";
  for (const RunData& run : runs) {
    if (run.curves) html += "<li><b>" + XmlEscape(run.name) + "</b>: " + XmlEscape(TrainingSummary(run)) + "</li>";
  }
  html += "</ul><div class=\"charts\">";
  for (const std::string& column : CurveColumns(runs)) html += LineChartSvg(TrainingChart(runs, column));
  return html + "</div></section>";
}

std::string Percent(int64_t part, int64_t whole) {
  return whole > 0 ? FormatNumber(100.0 * static_cast<double>(part) / static_cast<double>(whole)) + "%" : "n/a";
}

std::string KeyShare(const RecordsInfo& info, const std::string& key) {
  const auto it = info.records_with_key.find(key);
  return Percent(it == info.records_with_key.end() ? 0 : it->second, info.records);
}

// One records run: counts, image sizes, masks present, class balance and the problems found.
std::string DatasetOf(const RunData& run) {
  const RecordsInfo& info = *run.records;
  std::string html = "<h3>" + XmlEscape(run.name) + "</h3><table>" + Row({"", "value"}, "th");
  html += Row({"files", std::to_string(info.files)}) + Row({"images (records)", std::to_string(info.records)}) +
          Row({"objects", std::to_string(info.objects)}) + Row({"crowd objects", std::to_string(info.crowd_objects)});
  html += Row({"image width min / mean / max", std::to_string(info.min_width) + " / " + FormatNumber(info.mean_width) +
                                                   " / " + std::to_string(info.max_width)});
  html += Row({"image height min / mean / max", std::to_string(info.min_height) + " / " +
                                                    FormatNumber(info.mean_height) + " / " + std::to_string(info.max_height)});
  html += Row({"records with instance masks", KeyShare(info, "image/object/mask")});
  html += Row({"records with a semantic mask", KeyShare(info, "image/segmentation/class/encoded")});
  std::string formats;
  for (const auto& [format, n] : info.formats) formats += (formats.empty() ? "" : ", ") + format + " " + std::to_string(n);
  html += Row({"image formats", formats}) + "</table>";
  BarChart balance{"Objects per class", "objects", {}, 0};
  for (const auto& [cls, n] : info.classes) {
    const std::string label = cls.second.empty() ? "class " + std::to_string(cls.first)
                                                 : cls.first < 0 ? cls.second : std::to_string(cls.first) + " " + cls.second;
    balance.bars.push_back({label, static_cast<double>(n)});
    balance.max_value = std::max(balance.max_value, static_cast<double>(n));
  }
  if (!balance.bars.empty()) html += "<div class=\"charts\">" + BarChartSvg(balance) + "</div>";
  if (!info.problems.empty()) {
    html += "<p><b>" + std::to_string(info.problems.size()) + " problem(s):</b></p><ul>";
    for (const std::string& p : info.problems) html += "<li>" + XmlEscape(p) + "</li>";
    html += "</ul>";
  }
  return html;
}

std::string DatasetSection(const std::vector<RunData>& runs) {
  std::string html = "<section id=\"dataset\"><h2>Dataset</h2>";
  for (const RunData& run : runs) {
    if (run.records) html += DatasetOf(run);
  }
  return html + "</section>";
}

std::string SemanticEvaluation(const RunData& run) {
  const nlohmann::json& m = *run.semantic;
  std::string html = "<h3>" + XmlEscape(run.name) + "</h3><table>" + Row({"metric", "value"}, "th");
  for (const char* key : {"mean_iou", "pixel_accuracy", "mean_class_accuracy", "frequency_weighted_iou"}) {
    html += Row({key, FormatNumber(JsonNumber(m, key))});
  }
  html += "</table><div class=\"charts\">";
  BarChart iou{"IoU per class", "IoU", {}, 1}, accuracy{"Accuracy per class", "accuracy", {}, 1};
  Heatmap confusion{"Confusion matrix (rows: ground truth, normalized)", {}, {}, {}, {}};
  for (const auto& c : m.value("per_class", nlohmann::json::array())) {
    const std::string name = c.value("name", "");
    const std::string label = name.empty() ? "class " + std::to_string(c.value("id", 0)) : name;
    iou.bars.push_back({label, JsonNumber(c, "iou")});
    accuracy.bars.push_back({label, JsonNumber(c, "accuracy")});
    confusion.row_labels.push_back(label);
  }
  confusion.column_labels = confusion.row_labels;
  for (const auto& row : m.value("confusion_matrix", nlohmann::json::array())) {
    std::vector<long long> counts;
    long long total = 0;
    for (const auto& v : row) {
      counts.push_back(v.is_number_integer() ? v.get<long long>() : 0);
      total += counts.back();
    }
    std::vector<double> share;
    for (long long n : counts) share.push_back(total > 0 ? static_cast<double>(n) / static_cast<double>(total) : 0);
    confusion.counts.push_back(counts);
    confusion.values.push_back(share);
  }
  html += BarChartSvg(iou) + BarChartSvg(accuracy);
  if (!confusion.counts.empty()) html += HeatmapSvg(confusion);
  return html + "</div>";
}

// At most this many classes get precision-recall charts (the per-class AP bars show every class).
constexpr size_t kMaxPrCharts = 24;

// Precision against recall at IoU 0.5 and 0.75 per class (pr_curves of metrics.json); COCOeval's -1
// (undefined) points are left out.
std::string PrCurves(const nlohmann::json& eval, const std::string& type) {
  const nlohmann::json curves = eval.value("pr_curves", nlohmann::json::object());
  const nlohmann::json recall = curves.value("recall", nlohmann::json::array());
  const nlohmann::json classes = curves.value("per_class", nlohmann::json::array());
  if (recall.empty() || classes.empty()) return "";
  std::string html = "<div class=\"charts\">";
  for (size_t k = 0; k < classes.size() && k < kMaxPrCharts; ++k) {
    const nlohmann::json& c = classes[k];
    LineChart chart{"Precision-recall: " + c.value("name", "") + " (" + type + ")", "recall", "precision", {}};
    for (const auto& [key, label] : {std::pair<const char*, const char*>{"iou50", "IoU 0.5"}, {"iou75", "IoU 0.75"}}) {
      Series series{label, {}};
      const nlohmann::json precision = c.value(key, nlohmann::json::array());
      for (size_t i = 0; i < precision.size() && i < recall.size(); ++i) {
        const double p = precision[i].is_number() ? precision[i].get<double>() : -1;
        if (p >= 0) series.points.emplace_back(recall[i].get<double>(), p);
      }
      chart.series.push_back(series);
    }
    html += LineChartSvg(chart);
  }
  if (classes.size() > kMaxPrCharts) {
    html += "<p class=\"muted\">Precision-recall charts for the first " + std::to_string(kMaxPrCharts) + " of " +
            std::to_string(classes.size()) + " classes.</p>";
  }
  return html + "</div>";
}

std::string CocoEvaluation(const RunData& run, const nlohmann::json& eval) {
  static const char* kStats[12] = {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  const std::string type = eval.value("iou_type", "bbox");
  std::string html = "<h3>" + XmlEscape(run.name + " (" + type + ")") + "</h3><table>" + Row({"metric", "value"}, "th");
  const nlohmann::json stats = eval.value("stats", nlohmann::json::object());
  for (const char* key : kStats) {
    const double v = JsonNumber(stats, key);
    html += Row({key, v < 0 ? "n/a" : FormatNumber(v)});  // COCOeval's -1: undefined.
  }
  html += "</table><div class=\"charts\">";
  BarChart ap{"AP per class (" + type + ")", "AP", {}, 1}, ap50{"AP50 per class (" + type + ")", "AP50", {}, 1};
  for (const auto& c : eval.value("per_class", nlohmann::json::array())) {
    const std::string label = c.value("name", "category " + std::to_string(c.value("category_id", 0)));
    const double a = JsonNumber(c, "AP"), a50 = JsonNumber(c, "AP50");
    ap.bars.push_back({label, a < 0 ? Nan() : a});
    ap50.bars.push_back({label, a50 < 0 ? Nan() : a50});
  }
  return html + BarChartSvg(ap) + BarChartSvg(ap50) + "</div>" + PrCurves(eval, type);
}

// Where the box AP50 goes: one row and one bar per error type (evaluation/error_breakdown.h).
std::string ErrorBreakdown(const RunData& run) {
  const nlohmann::json& b = *run.error_breakdown;
  std::string html = "<h3>" + XmlEscape(run.name + ": detection errors (bbox)") + "</h3>" +
                     "<p class=\"muted\">AP50 " + FormatNumber(JsonNumber(b, "ap50")) + ", " +
                     std::to_string(b.value("true_positives", 0)) + " true positives. Each row: how many detections " +
                     "(ground truths for missed) have that error, and the AP50 gained by fixing only those.</p><table>" +
                     Row({"error", "count", "AP50 gained if fixed"}, "th");
  BarChart chart{"AP50 gained by fixing each error type", "AP50 gained", {}, 0.01};
  for (const auto& e : b.value("errors", nlohmann::json::array())) {
    const double delta = JsonNumber(e, "delta_ap50");
    html += Row({e.value("type", ""), std::to_string(e.value("count", 0)), FormatNumber(delta)});
    chart.bars.push_back({e.value("type", ""), delta});
    if (delta > chart.max_value) chart.max_value = delta;
  }
  return html + "</table><div class=\"charts\">" + BarChartSvg(chart) + "</div>";
}

// A thumbnail from metrics.json, or "" if it is not the JPEG data URI eval writes (the page never
// points at anything outside itself).
std::string ThumbnailUri(const nlohmann::json& entry) {
  static const std::string kPrefix = "data:image/jpeg;base64,";
  const std::string uri = entry.value("thumbnail", "");
  if (uri.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  for (size_t i = kPrefix.size(); i < uri.size(); ++i) {
    const char c = uri[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return "";
  }
  return uri;
}

// What a gallery value is called on the page.
std::string ValueLabel(const std::string& key) {
  if (key == "mean_iou") return "IoU";
  if (key == "pixel_accuracy") return "accuracy";
  if (key == "f1") return "F1";
  if (key == "true_positives") return "found";
  if (key == "false_positives") return "false";
  return key;
}

// "photo.jpg · IoU 0.42 · accuracy 0.9": the ranking value first, then the others in key order.
std::string Caption(const nlohmann::json& entry, const std::string& ranked_by) {
  std::string caption = XmlEscape(entry.value("id", "")) + " &middot; " + ValueLabel(ranked_by) + " " +
                        FormatNumber(JsonNumber(entry, ranked_by));
  for (const auto& [key, value] : entry.items()) {
    if (key == "id" || key == "thumbnail" || key == ranked_by || !value.is_number()) continue;
    caption += " &middot; " + XmlEscape(ValueLabel(key)) + " " + FormatNumber(value.get<double>());
  }
  return caption;
}

// An evaluation's worst images: [ground truth | prediction] side by side with the image's id and
// scores, worst first; and how the ranking score is spread over all images.
std::string Gallery(const RunData& run) {
  const nlohmann::json& g = *run.gallery;
  const nlohmann::json gallery = g.value("gallery", nlohmann::json::array());
  const nlohmann::json images = g.value("image_scores", nlohmann::json::array());
  const std::string ranked_by = g.value("gallery_ranked_by", "mean_iou");
  std::string html = "<h3>" + XmlEscape(run.name) + "</h3>";
  if (!images.empty()) {
    BarChart spread{"Images per " + ValueLabel(ranked_by) + " bin (" + std::to_string(images.size()) + " images)",
                    "images", {}, 1};
    std::vector<double> bins(10, 0);
    for (const auto& i : images) {
      const double v = JsonNumber(i, ranked_by);
      if (std::isfinite(v)) bins[std::min<size_t>(9, static_cast<size_t>(std::max(0.0, v) * 10))] += 1;
    }
    for (size_t b = 0; b < bins.size(); ++b) {
      spread.bars.push_back({FormatNumber(b / 10.0) + "-" + FormatNumber((b + 1) / 10.0), bins[b]});
      spread.max_value = std::max(spread.max_value, bins[b]);
    }
    html += "<div class=\"charts\">" + BarChartSvg(spread) + "</div>";
  }
  if (gallery.empty()) return html;
  html += "<p class=\"muted\">Worst images first (lowest " + XmlEscape(ValueLabel(ranked_by)) +
          "). Left: ground truth, right: prediction.</p><div class=\"gallery\">";
  for (size_t i = 0; i < gallery.size() && i < kMaxGalleryImages; ++i) {
    const std::string uri = ThumbnailUri(gallery[i]);
    if (uri.empty()) continue;
    html += "<figure><img class=\"thumb\" alt=\"" + XmlEscape(gallery[i].value("id", "")) + "\" src=\"" + uri +
            "\"><figcaption>" + Caption(gallery[i], ranked_by) + "</figcaption></figure>";
  }
  return html + "</div>";
}

std::string PredictionsSection(const std::vector<RunData>& runs) {
  std::string html = "<section id=\"predictions\"><h2>Predictions</h2>";
  for (const RunData& run : runs) {
    if (run.gallery) html += Gallery(run);
  }
  return html + "</section>" + kGalleryScript;
}

std::string EvaluationSection(const std::vector<RunData>& runs) {
  std::string html = "<section id=\"evaluation\"><h2>Evaluation</h2>";
  for (const RunData& run : runs) {
    if (run.semantic) html += SemanticEvaluation(run);
    for (const nlohmann::json& eval : run.coco) html += CocoEvaluation(run, eval);
    if (run.error_breakdown) html += ErrorBreakdown(run);
  }
  return html + "</section>";
}

std::string JsonText(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

// 3512345 -> "3,512,345".
std::string WithThousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

// 12345678 -> "11.8 MB".
std::string FileSize(uintmax_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return text;
}

std::string ModelCard(const RunData& run) {
  const nlohmann::json& m = *run.model;
  std::string html = "<h3>" + XmlEscape(run.name) + "</h3><table>" + Row({"field", "value"}, "th");
  html += Row({"kind", m.value("kind", "segmentation")});
  for (const char* key : {"architecture", "num_classes"}) {
    if (m.contains(key)) html += Row({key, JsonText(m[key])});
  }
  if (m.contains("class_names")) {
    std::string names;
    for (const auto& n : m["class_names"]) names += (names.empty() ? "" : ", ") + JsonText(n);
    html += Row({"classes", names});
  }
  if (m.contains("preprocessing") && m["preprocessing"].contains("input_size")) {
    html += Row({"input size (H, W)", m["preprocessing"]["input_size"].dump()});
  }
  if (run.parameters) html += Row({"parameters", WithThousands(*run.parameters)});
  std::string files;
  for (const auto& [name, size] : run.export_files) {
    files += (files.empty() ? "" : ", ") + name + " (" + FileSize(size) + ")";
  }
  if (!files.empty()) html += Row({"export files", files});
  const nlohmann::json provenance = m.value("provenance", nlohmann::json::object());
  for (const auto& [key, value] : provenance.items()) {
    html += Row({key, JsonText(value)});
  }
  return html + "</table>";
}

std::string ModelSection(const std::vector<RunData>& runs) {
  std::string html = "<section id=\"model\"><h2>Model card</h2>";
  for (const RunData& run : runs) {
    if (run.model) html += ModelCard(run);
  }
  return html + "</section>";
}

}  // namespace

std::string RenderReport(const std::vector<RunData>& runs) {
  bool dataset = false, curves = false, evaluation = false, model = false, predictions = false;
  std::string names;
  for (const RunData& run : runs) {
    dataset = dataset || run.records.has_value();
    curves = curves || run.curves.has_value();
    evaluation = evaluation || run.semantic.has_value() || !run.coco.empty();
    model = model || run.model.has_value();
    predictions = predictions || run.gallery.has_value();
    names += (names.empty() ? "" : ", ") + run.name;
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<title>segtune report: " + XmlEscape(names) + "</title><style>" + kStyle +
                     "</style></head><body><h1>segtune report</h1><p class=\"muted\">" + XmlEscape(names) +
                     " &middot; segtune " SEGTUNE_VERSION "</p>";
  if (dataset) html += DatasetSection(runs);
  if (curves) html += TrainingSection(runs);
  if (evaluation) html += EvaluationSection(runs);
  if (predictions) html += PredictionsSection(runs);
  if (model) html += ModelSection(runs);
  return html + "</body></html>\n";
}

}  // namespace segtune::report
