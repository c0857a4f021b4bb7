// A TFRecord of tf.train.Example as an input (docs/formats.md §18): ground truth as coco2tfrecord and
// TF's create_coco_tf_record.py write it (image/object/*), or predictions as `segtune infer` and TF's
// infer_detections write them (image/detection/*, with image/detection/mask for Mask R-CNN, and
// image/segmentation/class/predicted for semantic models, read as one RLE per predicted class).
// Read-only: writing records is `segtune coco2tfrecord`.
//
// Images: id = image/source_id (a number when it is one; the record's position when absent),
// file_name = image/filename's last component (sanitized, unique; "<source_id>.<format>" when absent),
// image/encoded becomes LabeledDataset::embedded_images. Categories: (class/label, class/text) pairs;
// prediction labels without a name become "class_<id>" unless ReadOptions::reference names them.
#include <algorithm>
#include <map>

#include "segtune/core/error.h"
#include "segtune/core/safe_name.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/prediction_reference.h"
#include "segtune/data/image_decode.h"
#include "segtune/data/records.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/shard_set.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDetectionMasks = "image/detection/mask";
constexpr const char* kPredictedClassMap = "image/segmentation/class/predicted";

// A non-empty file named *.record / *.tfrecord (or a shard of one) that starts with a TFRecord header.
int DetectTfrecord(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec) || fs::file_size(input, ec) == 0) return 0;
  const std::string name = input.filename().string();
  const bool named = input.extension() == ".record" || input.extension() == ".tfrecord" ||
                     name.find(".record-") != std::string::npos || name.find(".tfrecord-") != std::string::npos;
  return named && LooksLikeTFRecord(input) ? 10 : 0;
}

// Reads records one by one into a LabeledDataset.
class RecordReader {
 public:
  explicit RecordReader(const fs::path& input) : input_(input) {}

  LabeledDataset Read() {
    ForEachExample({input_}, nullptr, [&](const tensorflow::Example& ex, const std::string& source) {
      AddRecord(ex, source);
    });
    for (const auto& [id, name] : names_) dataset_.coco.categories.push_back({id, name, "", nlohmann::json::object()});
    return std::move(dataset_);
  }

 private:
  void AddRecord(const tensorflow::Example& ex, const std::string& source) {
    const ObjectDetectionExample od = ParseObjectDetectionExample(ex, source);
    CocoImage image = MakeImage(od, source);
    if (HasFeature(ex, kPredictedClassMap)) {
      AddClassMap(ex, od, image, source);
    } else if (od.has_detections) {
      AddDetections(ex, od, image, source);
    } else {
      AddObjects(od, image, source);
    }
    if (!od.encoded.empty()) dataset_.embedded_images[image.file_name] = od.encoded;
    dataset_.coco.images.push_back(std::move(image));
  }

  CocoImage MakeImage(const ObjectDetectionExample& od, const std::string& source) {
    CocoImage image;
    const std::string sid = od.source_id.empty() ? std::to_string(dataset_.coco.images.size() + 1) : od.source_id;
    const bool numeric = sid.size() < 18 && std::all_of(sid.begin(), sid.end(), ::isdigit);
    image.id = {sid, numeric};
    const std::string base = od.filename.substr(od.filename.find_last_of('/') + 1);
    const std::string clean = SanitizeFileName(base, "");
    image.file_name = clean.empty() || namer_.Taken(clean)
                          ? namer_.Name(sid + "." + (od.format.empty() ? "jpg" : od.format), source + ": image/source_id")
                          : namer_.Name(base, source + ": image/filename");
    image.width = static_cast<int>(std::clamp<int64_t>(od.width, 0, INT32_MAX));
    image.height = static_cast<int>(std::clamp<int64_t>(od.height, 0, INT32_MAX));
    if ((image.width == 0 || image.height == 0) && !od.encoded.empty()) {
      if (const auto size = ReadImageSize(od.encoded)) image.width = size->width, image.height = size->height;
    }
    return image;
  }

  CocoAnnotation& NewAnnotation(const CocoImage& image, int64_t category_id) {
    CocoAnnotation a;
    a.id = static_cast<int64_t>(dataset_.coco.annotations.size() + 1);
    a.image_id = image.id;
    a.category_id = category_id;
    names_.emplace(category_id, "class_" + std::to_string(category_id));
    dataset_.coco.annotations.push_back(std::move(a));
    return dataset_.coco.annotations.back();
  }

  static std::array<double, 4> PixelBox(const NormalizedBox& b, const CocoImage& image) {
    const double w = image.width, h = image.height;
    return {b.xmin * w, b.ymin * h, (b.xmax - b.xmin) * w, (b.ymax - b.ymin) * h};
  }

  // A 0/1 (or 0/255) PNG of the image's size as an RLE.
  Rle MaskRle(const std::string& png, const CocoImage& image, const std::string& source, const std::string& key) {
    std::vector<uint8_t> pixels;
    int h = 0, w = 0;
    DecodeGray(png, source, key, &pixels, &h, &w);
    if ((image.height > 0 && h != image.height) || (image.width > 0 && w != image.width)) {
      throw FormatError(source + ": " + key + ": mask is " + std::to_string(w) + "x" + std::to_string(h) +
                        ", expected the image's " + std::to_string(image.width) + "x" + std::to_string(image.height));
    }
    return RleEncode(pixels.data(), static_cast<uint32_t>(h), static_cast<uint32_t>(w));
  }

  void AddObjects(const ObjectDetectionExample& od, const CocoImage& image, const std::string& source) {
    for (size_t i = 0; i < od.boxes.size(); ++i) {
      const std::string text = i < od.class_text.size() ? od.class_text[i] : "";
      int64_t id = 0;
      if (i < od.class_label.size()) {
        id = od.class_label[i];
      } else if (!text.empty()) {
        id = text_ids_.emplace(text, static_cast<int64_t>(text_ids_.size() + 1)).first->second;
      } else {
        throw FormatError(source + ": image/object/class: object " + std::to_string(i) +
                          " has neither class/label nor class/text");
      }
      CocoAnnotation& a = NewAnnotation(image, id);
      if (!text.empty()) names_[id] = text;
      a.bbox = PixelBox(od.boxes[i], image);
      a.iscrowd = i < od.is_crowd.size() && od.is_crowd[i] != 0;
      if (i < od.instance_masks.size()) {
        a.segmentation.rle = MaskRle(od.instance_masks[i], image, source, "image/object/mask[" + std::to_string(i) + "]");
      }
      a.area = i < od.area.size() ? od.area[i]
               : a.segmentation.rle ? static_cast<double>(RleArea(*a.segmentation.rle))
                                    : a.bbox[2] * a.bbox[3];
    }
  }

  void AddDetections(const tensorflow::Example& ex, const ObjectDetectionExample& od, const CocoImage& image,
                     const std::string& source) {
    const std::vector<std::string> masks = GetBytesList(ex, kDetectionMasks, source);
    if (!masks.empty() && masks.size() != od.detection_boxes.size()) {
      throw FormatError(source + ": " + kDetectionMasks + ": " + std::to_string(masks.size()) + " masks for " +
                        std::to_string(od.detection_boxes.size()) + " detections");
    }
    if (od.detection_labels.size() != od.detection_boxes.size()) {
      throw FormatError(source + ": image/detection/label: " + std::to_string(od.detection_labels.size()) +
                        " labels for " + std::to_string(od.detection_boxes.size()) + " detections");
    }
    for (size_t i = 0; i < od.detection_boxes.size(); ++i) {
      CocoAnnotation& a = NewAnnotation(image, od.detection_labels[i]);
      a.bbox = PixelBox(od.detection_boxes[i], image);
      a.score = od.detection_scores[i];
      if (!masks.empty()) {
        a.segmentation.rle = MaskRle(masks[i], image, source, std::string(kDetectionMasks) + "[" + std::to_string(i) + "]");
      }
      a.area = a.segmentation.rle ? static_cast<double>(RleArea(*a.segmentation.rle)) : a.bbox[2] * a.bbox[3];
    }
  }

  // A semantic model's class map: one annotation per class present (0 = background and 255 = ignore
  // are not classes); its score is the mean of that class's region scores (image/detection/score).
  void AddClassMap(const tensorflow::Example& ex, const ObjectDetectionExample& od, const CocoImage& image,
                   const std::string& source) {
    const std::string png = GetBytes(ex, kPredictedClassMap, source).value_or("");
    std::vector<uint8_t> map;
    int h = 0, w = 0;
    DecodeGray(png, source, kPredictedClassMap, &map, &h, &w);
    std::map<int64_t, std::pair<double, int>> scores;  // Class -> (sum, count) of region scores.
    for (size_t i = 0; i < od.detection_labels.size() && i < od.detection_scores.size(); ++i) {
      auto& s = scores[od.detection_labels[i]];
      s.first += od.detection_scores[i];
      ++s.second;
    }
    std::vector<bool> present(256, false);
    for (uint8_t v : map) present[v] = true;
    std::vector<uint8_t> mask(map.size());
    for (int k = 1; k < 255; ++k) {
      if (!present[k]) continue;
      std::transform(map.begin(), map.end(), mask.begin(), [k](uint8_t v) { return v == k ? 1 : 0; });
      CocoAnnotation& a = NewAnnotation(image, k);
      a.segmentation.rle = RleEncode(mask.data(), static_cast<uint32_t>(h), static_cast<uint32_t>(w));
      a.bbox = RleToBbox(*a.segmentation.rle);
      a.area = static_cast<double>(RleArea(*a.segmentation.rle));
      if (const auto s = scores.find(k); s != scores.end()) a.score = s->second.first / s->second.second;
    }
  }

  fs::path input_;
  LabeledDataset dataset_;
  SafeNamer namer_{"convert"};
  std::map<int64_t, std::string> names_;     // Category id -> name.
  std::map<std::string, int64_t> text_ids_;  // For records with class/text but no class/label.
};

LabeledDataset ReadTfrecord(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  LabeledDataset dataset = RecordReader(input).Read();
  dataset.images_dir = options.images_dir;
  if (!options.reference.empty()) ApplyReference(&dataset, LoadCoco(options.reference), input, options.reference, report);
  return dataset;
}

}  // namespace

AnnotationFormat TfrecordAnnotationFormat() {
  return {"tfrecord", DetectTfrecord, ReadTfrecord, nullptr};
}

}  // namespace segtune
