#include "segtune/evaluation/detection_eval.h"

#include <map>
#include <set>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/rle.h"
#include "segtune/data/records.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {
namespace {

constexpr const char* kDetectionMaskKey = "image/detection/mask";

Rle MaskRle(const std::string& png, const std::string& source, const char* key, size_t index) {
  std::vector<uint8_t> pixels;
  int h = 0, w = 0;
  DecodeGray(png, source, std::string(key) + "[" + std::to_string(index) + "]", &pixels, &h, &w);
  return RleEncode(pixels.data(), static_cast<uint32_t>(h), static_cast<uint32_t>(w));
}

std::vector<Rle> MaskRles(const std::vector<std::string>& pngs, const std::string& source, const char* key) {
  std::vector<Rle> rles;
  for (size_t i = 0; i < pngs.size(); ++i) rles.push_back(MaskRle(pngs[i], source, key, i));
  return rles;
}

// [x, y, w, h] in pixels of a normalized TF box.
std::array<double, 4> PixelBox(const NormalizedBox& b, int height, int width) {
  const double x = static_cast<double>(b.xmin) * width, y = static_cast<double>(b.ymin) * height;
  return {x, y, static_cast<double>(b.xmax) * width - x, static_cast<double>(b.ymax) * height - y};
}

std::string SourceIdOf(const tensorflow::Example& example, const std::string& source) {
  return GetBytes(example, "image/source_id", source).value_or("");
}

}  // namespace

void DetectionEvalBuilder::Add(const tensorflow::Example& groundtruth, const tensorflow::Example& predictions,
                               const std::string& source) {
  const ObjectDetectionExample gt = ParseObjectDetectionExample(groundtruth, source);
  const ObjectDetectionExample dt = ParseObjectDetectionExample(predictions, source);
  const std::vector<Rle> gt_masks = MaskRles(gt.instance_masks, source, "image/object/mask");
  const std::vector<Rle> dt_masks = MaskRles(GetBytesList(predictions, kDetectionMaskKey, source), source,
                                             kDetectionMaskKey);
  CocoImage image;
  const size_t index = gt_.images.size();
  image.id.text = gt.source_id.empty() ? "record-" + std::to_string(index) : gt.source_id;
  for (const CocoImage& seen : gt_.images) {
    if (seen.id == image.id) image.id.text += "#" + std::to_string(index);  // Keep every image apart.
  }
  image.height = static_cast<int>(gt.height);
  image.width = static_cast<int>(gt.width);
  if ((image.height <= 0 || image.width <= 0) && !gt_masks.empty()) {
    image.height = static_cast<int>(gt_masks[0].h);
    image.width = static_cast<int>(gt_masks[0].w);
  }
  if ((image.height <= 0 || image.width <= 0) && (gt.num_objects() > 0 || !dt.detection_boxes.empty())) {
    throw FormatError(source + ": no image/height and image/width (needed to scale the normalized boxes)");
  }
  image.file_name = gt.filename;
  if (gt.num_objects() > 0 && gt_masks.size() != gt.num_objects()) gt_masks_ = false;
  if (dt.detection_boxes.size() > 0 && dt_masks.size() != dt.detection_boxes.size()) dt_masks_ = false;

  for (size_t i = 0; i < gt.num_objects(); ++i) {
    CocoAnnotation a;
    a.id = static_cast<int64_t>(gt_.annotations.size()) + 1;
    a.image_id = image.id;
    a.category_id = i < gt.class_label.size() ? gt.class_label[i] : 1;
    a.bbox = PixelBox(gt.boxes[i], image.height, image.width);
    a.iscrowd = i < gt.is_crowd.size() && gt.is_crowd[i] != 0;
    if (i < gt_masks.size()) a.segmentation.rle = gt_masks[i];
    if (i < gt.area.size()) {
      a.area = gt.area[i];
    } else if (i < gt_masks.size()) {
      a.area = static_cast<double>(RleArea(gt_masks[i]));
    } else {
      a.area = a.bbox[2] * a.bbox[3];
    }
    gt_.annotations.push_back(std::move(a));
  }
  for (size_t i = 0; i < dt.detection_boxes.size(); ++i) {
    CocoAnnotation d;
    d.image_id = image.id;
    d.category_id = dt.detection_labels.at(i);
    d.bbox = PixelBox(dt.detection_boxes[i], image.height, image.width);
    d.score = dt.detection_scores.at(i);
    if (i < dt_masks.size()) d.segmentation.rle = dt_masks[i];
    dt_.push_back(std::move(d));
  }
  AddToGallery(image, gt_.annotations.size() - gt.num_objects(), dt_.size() - dt.detection_boxes.size(), gt.encoded,
               source);
  gt_.images.push_back(std::move(image));
}

void DetectionEvalBuilder::AddToGallery(const CocoImage& image, size_t first_gt, size_t first_dt,
                                        const std::string& encoded, const std::string& source) {
  std::vector<const CocoAnnotation*> gt, dt;
  for (size_t i = first_gt; i < gt_.annotations.size(); ++i) gt.push_back(&gt_.annotations[i]);
  for (size_t i = first_dt; i < dt_.size(); ++i) dt.push_back(&dt_[i]);
  gallery_.Add(image.id.text, gt, dt, image.height, image.width, [&]() -> cv::Mat {
    try {
      return encoded.empty() ? cv::Mat() : DecodeImageBytes(encoded, cv::IMREAD_COLOR, source, "image/encoded");
    } catch (const Error&) {
      return cv::Mat();  // The metrics need no image; its picture shows the boxes on black.
    }
  });
}

DetectionEvalResult DetectionEvalBuilder::Evaluate(const std::vector<std::string>& class_names, int threads) const {
  CocoDataset gt = gt_;
  std::set<int64_t> categories;
  for (const auto& a : gt_.annotations) categories.insert(a.category_id);
  for (const auto& d : dt_) categories.insert(d.category_id);
  for (int64_t id : categories) {
    CocoCategory c;
    c.id = id;
    const bool named = id >= 0 && static_cast<size_t>(id) < class_names.size() && !class_names[id].empty();
    c.name = named ? class_names[id] : "class " + std::to_string(id);
    gt.categories.push_back(std::move(c));
  }
  CocoEvalParams params;
  params.results_kind = CocoResultsKind::kBoxes;
  params.threads = threads;
  DetectionEvalResult result;
  result.images = static_cast<int64_t>(gt.images.size());
  result.bbox = EvaluateCoco(gt, dt_, params);
  result.errors = ComputeErrorBreakdown(gt, dt_, params);
  result.image_scores = gallery_.scores();
  result.gallery = gallery_.Worst();
  if (gt_masks_ && dt_masks_ && !dt_.empty() && !gt.annotations.empty()) {
    params.iou_type = CocoIouType::kSegm;
    result.segm = EvaluateCoco(gt, dt_, params);
  }
  return result;
}

bool HasDetectionPredictions(const std::string& spec) {
  for (const auto& path : ExpandInputPaths(spec)) {
    TFRecordReader reader(path);
    std::string record;
    if (!reader.Next(&record)) continue;
    const tensorflow::Example e = ParseExample(record, path.string() + ": record 0");
    const auto& features = e.features().feature();
    return features.count("image/detection/score") > 0 && features.count("image/segmentation/class/predicted") == 0;
  }
  return false;
}

DetectionEvalResult EvaluateDetectionRecords(const std::string& predictions, const std::string& groundtruth,
                                             const std::vector<std::string>& class_names, int threads,
                                             size_t gallery) {
  DetectionEvalBuilder builder(gallery);
  std::vector<std::string> warnings;
  std::string matched_by = "same record";
  if (groundtruth.empty()) {
    ForEachExample(ExpandInputPaths(predictions), nullptr,
                   [&](const tensorflow::Example& e, const std::string& source) { builder.Add(e, e, source); });
  } else {
    std::vector<tensorflow::Example> gt;
    std::map<std::string, size_t> by_id;
    bool unique_ids = true;
    ForEachExample(ExpandInputPaths(groundtruth), nullptr, [&](tensorflow::Example e, const std::string& source) {
      e.mutable_features()->mutable_feature()->erase("image/encoded");
      const std::string id = SourceIdOf(e, source);
      unique_ids = unique_ids && !id.empty() && by_id.emplace(id, gt.size()).second;
      gt.push_back(std::move(e));
    });
    std::vector<std::pair<tensorflow::Example, std::string>> pred;
    std::set<std::string> pred_ids;
    ForEachExample(ExpandInputPaths(predictions), nullptr, [&](tensorflow::Example e, const std::string& source) {
      e.mutable_features()->mutable_feature()->erase("image/encoded");
      const std::string id = SourceIdOf(e, source);
      unique_ids = unique_ids && !id.empty() && pred_ids.insert(id).second;
      pred.emplace_back(std::move(e), source);
    });
    if (!unique_ids && gt.size() != pred.size()) {
      throw FormatError("cannot match predictions to ground truth: image/source_id is missing or not unique, and "
                        "record order needs equal counts (" + std::to_string(pred.size()) + " predictions, " +
                        std::to_string(gt.size()) + " ground-truth records)");
    }
    matched_by = unique_ids ? "image/source_id" : "record order";
    if (!unique_ids) {
      for (size_t i = 0; i < pred.size(); ++i) builder.Add(gt[i], pred[i].first, pred[i].second);
    } else {
      // Every ground-truth image counts (one without predictions has only misses).
      std::map<std::string, size_t> pred_by_id;
      for (size_t i = 0; i < pred.size(); ++i) {
        const std::string id = SourceIdOf(pred[i].first, pred[i].second);
        if (by_id.count(id) == 0) {
          warnings.push_back(pred[i].second + ": no ground truth with image/source_id '" + id + "'");
        }
        pred_by_id[id] = i;
      }
      const tensorflow::Example none;
      for (const auto& [id, g] : by_id) {
        auto it = pred_by_id.find(id);
        if (it == pred_by_id.end()) {
          warnings.push_back(groundtruth + ": no prediction for image/source_id '" + id + "' (counted as missed)");
          builder.Add(gt[g], none, groundtruth + ": image/source_id '" + id + "'");
        } else {
          builder.Add(gt[g], pred[it->second].first, pred[it->second].second);
        }
      }
    }
  }
  DetectionEvalResult result = builder.Evaluate(class_names, threads);
  if (result.images == 0) throw FormatError(predictions + ": no prediction could be matched to ground truth");
  result.matched_by = matched_by;
  result.warnings = std::move(warnings);
  return result;
}

std::string FormatDetectionEval(const DetectionEvalResult& result) {
  std::string text = "bbox:\n" + FormatCocoSummary(result.bbox) + FormatCocoPerClass(result.bbox);
  if (result.segm) text += "segm:\n" + FormatCocoSummary(*result.segm) + FormatCocoPerClass(*result.segm);
  return text;
}

std::string DetectionMetricsToJson(const DetectionEvalResult& result) {
  nlohmann::ordered_json j;
  j["images"] = result.images;
  j["matched_by"] = result.matched_by;
  j["bbox"] = CocoEvalResultToJson(result.bbox);
  if (result.segm) j["segm"] = CocoEvalResultToJson(*result.segm);
  j["error_breakdown"] = ErrorBreakdownToJson(result.errors);
  const nlohmann::json gallery = GalleryToJson(result.image_scores, result.gallery);
  j["image_scores"] = gallery["image_scores"];
  j["gallery"] = gallery["gallery"];
  j["gallery_ranked_by"] = gallery["gallery_ranked_by"];
  return j.dump(2) + "\n";
}

}  // namespace segtune
