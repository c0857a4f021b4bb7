#include "segtune/evaluation/semantic_eval.h"

#include <map>
#include <optional>
#include <set>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/od_example.h"
#include "segtune/data/semantic_target.h"
#include "segtune/data/records.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {
namespace {

constexpr const char* kPredictedKey = "image/segmentation/class/predicted";
constexpr const char* kFractionKey = "image/segmentation/class/fraction";

std::string SourceId(const tensorflow::Example& example, const std::string& source) {
  return GetBytes(example, "image/source_id", source).value_or("");
}

// True when every id is non-empty and unique.
bool UsableIds(const std::vector<std::string>& ids) {
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (id.empty() || !seen.insert(id).second) return false;
  }
  return !ids.empty();
}

struct GroundTruthRecord {
  ObjectDetectionExample example;  // Image bytes dropped.
  std::string source;
};

cv::Mat DecodePredicted(const tensorflow::Example& example, const std::string& source) {
  const auto png = GetBytes(example, kPredictedKey, source);
  if (!png) throw FormatError(source + ": no " + kPredictedKey + " (not written by segtune infer?)");
  std::vector<uint8_t> pixels;
  int h = 0, w = 0;
  DecodeGray(*png, source, kPredictedKey, &pixels, &h, &w);
  return cv::Mat(h, w, CV_8UC1, pixels.data()).clone();
}

int NumClassesFrom(const SemanticEvalOptions& request) {
  if (request.num_classes > 0) return request.num_classes;
  int found = 0;
  for (const auto& path : ExpandInputPaths(request.predictions)) {
    TFRecordReader reader(path);
    std::string record;
    if (!reader.Next(&record)) continue;
    const std::string source = path.string() + ": record 0";
    found = static_cast<int>(GetFloatList(ParseExample(record, source), kFractionKey, source).size());
    break;
  }
  if (found <= 0) {
    throw UsageError(request.predictions + ": the predictions carry no " + std::string(kFractionKey) +
                     "; pass --num-classes");
  }
  return found;
}

}  // namespace

SemanticEvalResult EvaluateSemanticRecords(const SemanticEvalOptions& request) {
  SemanticEvalResult result;
  const int num_classes = NumClassesFrom(request);
  SemanticConfusion confusion(num_classes, request.ignore_label);
  SemanticGallery gallery(num_classes, request.ignore_label, request.gallery);

  std::vector<GroundTruthRecord> groundtruth;
  std::map<std::string, size_t> by_id;
  bool match_by_id = true;
  if (!request.groundtruth.empty()) {
    std::vector<std::string> gt_ids;
    ForEachExample(ExpandInputPaths(request.groundtruth), nullptr,
                   [&](const tensorflow::Example& e, const std::string& source) {
      GroundTruthRecord g{ParseObjectDetectionExample(e, source), source};
      g.example.encoded.clear();
      gt_ids.push_back(g.example.source_id);
      groundtruth.push_back(std::move(g));
    });
    std::vector<std::string> pred_ids;
    ForEachExample(ExpandInputPaths(request.predictions), nullptr,
                   [&](const tensorflow::Example& e, const std::string& source) { pred_ids.push_back(SourceId(e, source)); });
    match_by_id = UsableIds(gt_ids) && UsableIds(pred_ids);
    if (match_by_id) {
      for (size_t i = 0; i < gt_ids.size(); ++i) by_id[gt_ids[i]] = i;
    } else if (gt_ids.size() != pred_ids.size()) {
      throw FormatError("cannot match predictions to ground truth: image/source_id is missing or not unique, and "
                        "record order needs equal counts (" + std::to_string(pred_ids.size()) + " predictions, " +
                        std::to_string(gt_ids.size()) + " ground-truth records)");
    }
  }
  result.matched_by = request.groundtruth.empty() ? "same record" : (match_by_id ? "image/source_id" : "record order");

  size_t order = 0;
  ForEachExample(ExpandInputPaths(request.predictions), nullptr,
                 [&](const tensorflow::Example& e, const std::string& source) {
    const size_t position = order++;
    const cv::Mat predicted = DecodePredicted(e, source);
    std::optional<GroundTruthRecord> own;
    const GroundTruthRecord* gt = nullptr;
    if (request.groundtruth.empty()) {
      own = GroundTruthRecord{ParseObjectDetectionExample(e, source), source};
      gt = &*own;
    } else if (match_by_id) {
      auto it = by_id.find(SourceId(e, source));
      if (it == by_id.end()) {
        result.warnings.push_back(source + ": no ground truth with image/source_id '" + SourceId(e, source) + "'");
        return;
      }
      gt = &groundtruth[it->second];
    } else {
      gt = &groundtruth[position];
    }
    const cv::Mat target = SemanticTarget(gt->example, predicted.rows, predicted.cols, gt->source);
    confusion.Add(target.data, predicted.data, target.total());
    ++result.images;
    const std::string id = SourceId(e, source);
    gallery.Add(id.empty() ? source : id, target, predicted, [&]() -> cv::Mat {
      const auto bytes = GetBytes(e, "image/encoded", source);
      try {
        return bytes ? DecodeImageBytes(*bytes, cv::IMREAD_COLOR, source, "image/encoded") : cv::Mat();
      } catch (const Error&) {
        return cv::Mat();  // The metrics need no image; its thumbnail shows the classes on black.
      }
    });
  });
  if (result.images == 0) throw FormatError(request.predictions + ": no prediction could be matched to ground truth");
  result.metrics = ComputeSemanticMetrics(confusion);
  result.image_scores = gallery.scores();
  result.gallery = gallery.Worst();
  if (result.metrics.unknown_label_pixels > 0) {
    result.warnings.push_back(std::to_string(result.metrics.unknown_label_pixels) + " ground-truth pixels have a class id >= " +
                              std::to_string(num_classes) + " (label map mismatch?) and were not counted");
  }
  return result;
}

}  // namespace segtune
