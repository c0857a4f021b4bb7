// `segtune eval` for detection models (torch-free): the infer_detections keys `segtune infer` writes
// (image/detection/bbox/*, score, label, and image/detection/mask PNGs for Mask R-CNN) against the
// TF OD API ground truth (image/object/bbox/*, class/label, is_crowd, area, image/object/mask PNGs),
// scored with COCO's box AP (and mask AP when both sides have masks) through evaluation/coco_eval.h
// — the numbers pycocotools gives for the same ground truth and results.
//
// COCO ground truth built from the records: one image per record (id = image/source_id, size =
// image/height/width or the first mask's size), annotations with bbox = the normalized box times the
// image size, area = image/object/area when present, else the mask's pixel count, else the box area;
// categories = every label seen on either side, named from class names when given.
// Results: bbox [x, y, w, h] in pixels, score, and the mask's RLE; they are read as a COCO results file
// with boxes (area = w*h), exactly as `segtune coco-eval` reads what `segtune infer --coco-results`
// writes.
// Matching of prediction to ground-truth records: as evaluation/semantic_eval.h (image/source_id when
// unique on both sides, else record order; or the same records when no ground truth is given).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "example.pb.h"
#include "segtune/formats/coco.h"
#include "segtune/evaluation/coco_eval.h"
#include "segtune/evaluation/detection_gallery.h"
#include "segtune/evaluation/error_breakdown.h"

namespace segtune {

struct DetectionEvalResult {
  CocoEvalResult bbox;
  std::optional<CocoEvalResult> segm;  // When predictions and ground truth both carry masks.
  ErrorBreakdown errors;               // Where the box AP50 goes (error_breakdown.h).
  std::vector<ImageScore> image_scores;  // Every image's F1 (detection_gallery.h), in input order.
  std::vector<GalleryEntry> gallery;     // The worst images' pictures, worst first.
  int64_t images = 0;
  std::string matched_by;             // "same record", "image/source_id" or "record order".
  std::vector<std::string> warnings;  // Unmatched predictions.
};

// Accumulates images one by one (for `eval --model`, where predictions come from the model).
class DetectionEvalBuilder {
 public:
  // Keeps pictures of the `gallery` worst images (detection_gallery.h; 0 = none).
  explicit DetectionEvalBuilder(size_t gallery = 48) : gallery_(gallery) {}
  // Adds one image: ground truth and predictions may be the same Example. `source` names it in
  // errors. Throws FormatError for malformed keys or masks that do not decode.
  void Add(const tensorflow::Example& groundtruth, const tensorflow::Example& predictions, const std::string& source);
  // Evaluates everything added. class_names[i] names category i (optional).
  DetectionEvalResult Evaluate(const std::vector<std::string>& class_names, int threads = 0) const;

 private:
  // Scores the image just added (annotations from first_gt / first_dt on) for the gallery.
  void AddToGallery(const CocoImage& image, size_t first_gt, size_t first_dt, const std::string& encoded,
                    const std::string& source);

  CocoDataset gt_;
  std::vector<CocoAnnotation> dt_;
  DetectionGallery gallery_;
  bool gt_masks_ = true, dt_masks_ = true;
};

// True when the first record of `spec` has image/detection/score and no semantic prediction
// (image/segmentation/class/predicted): records `segtune infer` wrote for a detection model.
bool HasDetectionPredictions(const std::string& spec);

// Reads and evaluates prediction records against ground-truth records (empty: the prediction records
// themselves). Throws IoError/FormatError naming the file and record, FormatError when nothing matches.
// With separate ground truth, the records' images are not kept in memory: the gallery draws the
// boxes on black.
DetectionEvalResult EvaluateDetectionRecords(const std::string& predictions, const std::string& groundtruth,
                                             const std::vector<std::string>& class_names, int threads = 0,
                                             size_t gallery = 48);

// The pycocotools summaries ("bbox" then "segm"), for printing.
std::string FormatDetectionEval(const DetectionEvalResult& result);
// metrics.json: {"images", "matched_by", "bbox": CocoEvalResultToJson, "segm": ... (when evaluated)}.
std::string DetectionMetricsToJson(const DetectionEvalResult& result);

}  // namespace segtune
