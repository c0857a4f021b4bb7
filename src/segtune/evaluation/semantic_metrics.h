// Semantic segmentation metrics from a confusion matrix: per-class IoU, mIoU, pixel accuracy, mean class
// accuracy and frequency-weighted IoU. Torch-free: it accumulates uint8 label maps, so `segtune train`
// (periodic evaluation) and `segtune eval` share this code and give the same numbers.
//
//   SemanticConfusion confusion(num_classes);        // Ignore label 255 by default.
//   for (each image) confusion.Add(gt.data, pred.data, gt.total());
//   SemanticMetrics m = ComputeSemanticMetrics(confusion);
//
// Definitions (rows = ground truth g, columns = prediction p, C[g][p] = pixel count):
//   IoU_c       = C[c][c] / (sum_p C[c][p] + sum_g C[g][c] - C[c][c])
//   accuracy_c  = C[c][c] / sum_p C[c][p]                 (recall of class c)
//   pixel acc   = trace(C) / sum(C)
//   mIoU        = mean of IoU_c over PRESENT classes       (present = at least one ground-truth pixel)
//   mean acc    = mean of accuracy_c over present classes
//   FW IoU      = sum over present c of (gt pixels of c / all counted pixels) * IoU_c
// A class with no ground-truth pixel is reported absent: it is not counted as 0 in the means (its false
// positives still lower the IoU of the classes whose pixels it took). Ground-truth pixels equal to the
// ignore label are skipped; ground-truth values >= num_classes (other than ignore) are skipped and
// counted in unknown_label_pixels so the caller can warn about a label map mismatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace segtune {

class SemanticConfusion {
 public:
  // Requires 1 <= num_classes <= 255 (class ids are uint8 and 255 is conventionally the ignore label).
  // ignore_label < 0 means no pixel is ignored. Throws Error on a bad num_classes.
  explicit SemanticConfusion(int num_classes, int ignore_label = 255);

  // Adds n pixels. Throws Error naming the pixel index if a prediction is >= num_classes.
  void Add(const uint8_t* groundtruth, const uint8_t* prediction, size_t n);
  // Adds another matrix of the same shape (per-thread accumulation). Throws Error on a shape mismatch.
  void Merge(const SemanticConfusion& other);
  // Adds a row-major [gt][pred] count matrix and ignored/unknown pixel counts (e.g. other processes'
  // matrices summed by an allreduce). Throws Error unless counts has num_classes^2 entries.
  void AddCounts(const std::vector<int64_t>& counts, int64_t ignored, int64_t unknown);

  int num_classes() const { return num_classes_; }
  int ignore_label() const { return ignore_label_; }
  int64_t at(int groundtruth, int prediction) const { return counts_[groundtruth * num_classes_ + prediction]; }
  int64_t ignored_pixels() const { return ignored_; }
  int64_t unknown_label_pixels() const { return unknown_; }

 private:
  int num_classes_;
  int ignore_label_;
  std::vector<int64_t> counts_;  // Row-major [gt][pred].
  int64_t ignored_ = 0;
  int64_t unknown_ = 0;
};

struct SemanticClassMetrics {
  bool present = false;          // Has at least one ground-truth pixel.
  double iou = 0;                // Meaningful when present (or predicted: then 0).
  double accuracy = 0;           // Recall; meaningful when present.
  int64_t groundtruth_pixels = 0;
  int64_t predicted_pixels = 0;
};

struct SemanticMetrics {
  std::vector<SemanticClassMetrics> per_class;  // Indexed by class id.
  double mean_iou = 0;
  double pixel_accuracy = 0;
  double mean_class_accuracy = 0;
  double frequency_weighted_iou = 0;
  int present_classes = 0;
  int64_t counted_pixels = 0;  // Pixels in the matrix (not ignored, known label).
  int64_t ignored_pixels = 0;
  int64_t unknown_label_pixels = 0;
  std::vector<int64_t> confusion;  // Copy of the matrix, row-major [gt][pred].
};

// Metrics of a matrix. With no counted pixel at all every mean is 0 and present_classes is 0.
SemanticMetrics ComputeSemanticMetrics(const SemanticConfusion& confusion);

// A readable table: one row per class (id, name, IoU, accuracy, gt pixels; "absent" for classes with
// no ground truth), then the summary numbers. names[i] names class i; missing names print as "class i".
std::string FormatSemanticTable(const SemanticMetrics& metrics, const std::vector<std::string>& names);

// JSON text with every number above (per_class entries carry "present"; absent classes have
// "iou": null), and the confusion matrix. Stable key order, suitable for metrics.json.
std::string SemanticMetricsToJson(const SemanticMetrics& metrics, const std::vector<std::string>& names);

}  // namespace segtune
