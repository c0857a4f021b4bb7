#include "segtune/evaluation/semantic_metrics.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "segtune/core/error.h"

namespace segtune {

SemanticConfusion::SemanticConfusion(int num_classes, int ignore_label)
    : num_classes_(num_classes), ignore_label_(ignore_label) {
  if (num_classes < 1 || num_classes > 255) {
    throw Error("semantic evaluation: num_classes must be in 1..255 (got " + std::to_string(num_classes) + ")");
  }
  counts_.assign(static_cast<size_t>(num_classes) * num_classes, 0);
}

void SemanticConfusion::Add(const uint8_t* groundtruth, const uint8_t* prediction, size_t n) {
  const int k = num_classes_;
  for (size_t i = 0; i < n; ++i) {
    const int g = groundtruth[i];
    if (g == ignore_label_) {
      ++ignored_;
      continue;
    }
    const int p = prediction[i];
    if (p >= k) {
      throw Error("semantic evaluation: predicted class " + std::to_string(p) + " at pixel " + std::to_string(i) +
                  " is outside 0.." + std::to_string(k - 1) + " (num_classes " + std::to_string(k) + ")");
    }
    if (g >= k) {
      ++unknown_;
      continue;
    }
    ++counts_[g * k + p];
  }
}

void SemanticConfusion::Merge(const SemanticConfusion& other) {
  if (other.num_classes_ != num_classes_ || other.ignore_label_ != ignore_label_) {
    throw Error("semantic evaluation: cannot merge confusion matrices of different shapes");
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  ignored_ += other.ignored_;
  unknown_ += other.unknown_;
}

void SemanticConfusion::AddCounts(const std::vector<int64_t>& counts, int64_t ignored, int64_t unknown) {
  if (counts.size() != counts_.size()) {
    throw Error("semantic evaluation: a count matrix of " + std::to_string(counts.size()) + " entries for " +
                std::to_string(num_classes_) + " classes (expected " + std::to_string(counts_.size()) + ")");
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += counts[i];
  ignored_ += ignored;
  unknown_ += unknown;
}

SemanticMetrics ComputeSemanticMetrics(const SemanticConfusion& confusion) {
  const int k = confusion.num_classes();
  SemanticMetrics m;
  m.per_class.resize(k);
  m.ignored_pixels = confusion.ignored_pixels();
  m.unknown_label_pixels = confusion.unknown_label_pixels();
  m.confusion.resize(static_cast<size_t>(k) * k);
  int64_t diagonal = 0;
  for (int g = 0; g < k; ++g) {
    for (int p = 0; p < k; ++p) {
      const int64_t c = confusion.at(g, p);
      m.confusion[g * k + p] = c;
      m.per_class[g].groundtruth_pixels += c;
      m.per_class[p].predicted_pixels += c;
      m.counted_pixels += c;
    }
    diagonal += confusion.at(g, g);
  }
  if (m.counted_pixels == 0) return m;
  m.pixel_accuracy = double(diagonal) / double(m.counted_pixels);
  for (int c = 0; c < k; ++c) {
    SemanticClassMetrics& cls = m.per_class[c];
    const int64_t tp = confusion.at(c, c);
    const int64_t uni = cls.groundtruth_pixels + cls.predicted_pixels - tp;
    cls.present = cls.groundtruth_pixels > 0;
    cls.iou = uni > 0 ? double(tp) / double(uni) : 0.0;
    cls.accuracy = cls.present ? double(tp) / double(cls.groundtruth_pixels) : 0.0;
    if (!cls.present) continue;
    ++m.present_classes;
    m.mean_iou += cls.iou;
    m.mean_class_accuracy += cls.accuracy;
    m.frequency_weighted_iou += double(cls.groundtruth_pixels) / double(m.counted_pixels) * cls.iou;
  }
  m.mean_iou /= m.present_classes;
  m.mean_class_accuracy /= m.present_classes;
  return m;
}

namespace {

std::string ClassName(const std::vector<std::string>& names, int c) {
  return c < static_cast<int>(names.size()) && !names[c].empty() ? names[c] : "class " + std::to_string(c);
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%6.2f", 100.0 * v);
  return buf;
}

}  // namespace

std::string FormatSemanticTable(const SemanticMetrics& m, const std::vector<std::string>& names) {
  size_t width = 5;
  for (int c = 0; c < static_cast<int>(m.per_class.size()); ++c) width = std::max(width, ClassName(names, c).size());
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%3s  %-*s  %7s  %7s  %12s\n", "id", int(width), "class", "IoU %", "acc %",
                "gt pixels");
  out << line;
  for (int c = 0; c < static_cast<int>(m.per_class.size()); ++c) {
    const SemanticClassMetrics& cls = m.per_class[c];
    const std::string name = ClassName(names, c);
    if (cls.present) {
      std::snprintf(line, sizeof line, "%3d  %-*s  %7s  %7s  %12lld\n", c, int(width), name.c_str(),
                    Percent(cls.iou).c_str(), Percent(cls.accuracy).c_str(),
                    static_cast<long long>(cls.groundtruth_pixels));
    } else {
      std::snprintf(line, sizeof line, "%3d  %-*s  %7s  %7s  %12s%s\n", c, int(width), name.c_str(), "absent", "-",
                    "0", cls.predicted_pixels > 0 ? "  (predicted on pixels of other classes)" : "");
    }
    out << line;
  }
  out << "mIoU " << Percent(m.mean_iou) << " % over " << m.present_classes << " present classes\n"
      << "pixel accuracy " << Percent(m.pixel_accuracy) << " %\n"
      << "mean class accuracy " << Percent(m.mean_class_accuracy) << " %\n"
      << "frequency-weighted IoU " << Percent(m.frequency_weighted_iou) << " %\n"
      << "pixels counted " << m.counted_pixels << ", ignored " << m.ignored_pixels;
  if (m.unknown_label_pixels > 0) out << ", with an unknown ground-truth label " << m.unknown_label_pixels;
  out << "\n";
  return out.str();
}

std::string SemanticMetricsToJson(const SemanticMetrics& m, const std::vector<std::string>& names) {
  nlohmann::ordered_json j;
  j["mean_iou"] = m.mean_iou;
  j["pixel_accuracy"] = m.pixel_accuracy;
  j["mean_class_accuracy"] = m.mean_class_accuracy;
  j["frequency_weighted_iou"] = m.frequency_weighted_iou;
  j["present_classes"] = m.present_classes;
  j["counted_pixels"] = m.counted_pixels;
  j["ignored_pixels"] = m.ignored_pixels;
  j["unknown_label_pixels"] = m.unknown_label_pixels;
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  const int k = static_cast<int>(m.per_class.size());
  for (int c = 0; c < k; ++c) {
    const SemanticClassMetrics& cls = m.per_class[c];
    nlohmann::ordered_json e;
    e["id"] = c;
    e["name"] = ClassName(names, c);
    e["present"] = cls.present;
    e["iou"] = cls.present ? nlohmann::ordered_json(cls.iou) : nlohmann::ordered_json(nullptr);
    e["accuracy"] = cls.present ? nlohmann::ordered_json(cls.accuracy) : nlohmann::ordered_json(nullptr);
    e["groundtruth_pixels"] = cls.groundtruth_pixels;
    e["predicted_pixels"] = cls.predicted_pixels;
    classes.push_back(e);
  }
  j["per_class"] = classes;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (int g = 0; g < k; ++g) {
    rows.push_back(std::vector<int64_t>(m.confusion.begin() + g * k, m.confusion.begin() + (g + 1) * k));
  }
  j["confusion_matrix"] = rows;  // Rows: ground truth; columns: prediction.
  return j.dump(2) + "\n";
}

}  // namespace segtune
