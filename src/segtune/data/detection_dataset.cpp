#include "segtune/data/detection_dataset.h"

#include <algorithm>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

namespace {

cv::Mat DecodeRgb(const std::string& bytes, const std::string& source) {
  const cv::Mat bgr = DecodeImageBytes(bytes, cv::IMREAD_COLOR, source, "image/encoded");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

// Instance mask k as 0/1, the image's size.
cv::Mat DecodeMask(const std::string& png, size_t k, const cv::Mat& rgb, const std::string& source) {
  const std::string where = "image/object/mask[" + std::to_string(k) + "]";
  const cv::Mat mask = DecodeImageBytes(png, cv::IMREAD_GRAYSCALE, source, where);
  if (mask.rows != rgb.rows || mask.cols != rgb.cols) {
    throw FormatError(source, where,
                      "mask is " + std::to_string(mask.cols) + "x" + std::to_string(mask.rows) + ", expected the image's " +
                          std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows));
  }
  cv::Mat binary;
  cv::threshold(mask, binary, 0, 1, cv::THRESH_BINARY);
  return binary;
}

// The label of object k: image/object/class/label, else the label map id of its class text.
int64_t LabelOf(const ObjectDetectionExample& ex, size_t k, const DetectionDatasetOptions& o, const std::string& source) {
  int64_t label = k < ex.class_label.size() ? ex.class_label[k] : 0;
  if (label == 0 && k < ex.class_text.size()) {
    auto it = o.class_ids.find(ex.class_text[k]);
    if (it != o.class_ids.end()) label = it->second;
  }
  if (label < 1 || label >= o.num_classes) {
    throw FormatError(source, "image/object/class/label[" + std::to_string(k) + "]",
                      "label " + std::to_string(label) +
                          (k < ex.class_text.size() ? " ('" + ex.class_text[k] + "')" : std::string()) +
                          " is outside 1.." + std::to_string(o.num_classes - 1) +
                          " (num_classes includes background: the largest label-map id + 1)");
  }
  return label;
}

void FlipHorizontally(DetectionSample* s) {
  cv::flip(s->rgb, s->rgb, 1);
  const float w = static_cast<float>(s->rgb.cols);
  for (size_t k = 0; k < s->labels.size(); ++k) {
    const float x1 = s->boxes[4 * k], x2 = s->boxes[4 * k + 2];
    s->boxes[4 * k] = w - x2;
    s->boxes[4 * k + 2] = w - x1;
  }
  for (auto& m : s->masks) cv::flip(m, m, 1);
  s->flipped = true;
}

}  // namespace

DetectionDataset::DetectionDataset(DetectionDatasetOptions options)
    : RecordDataset(options), options_(std::move(options)) {}

DetectionSample DetectionDataset::LoadSample(int64_t position) const {
  const size_t r = RecordAt(position);
  DetectionSample s;
  s.source = records().SourceOf(r);
  const ObjectDetectionExample ex = ParseObjectDetectionExample(ParseExample(records().Read(r), s.source), s.source);
  s.source_id = ex.source_id;
  s.rgb = DecodeRgb(ex.encoded, s.source);
  if (options_.load_masks && ex.instance_masks.size() != ex.num_objects()) {
    throw FormatError(s.source, "image/object/mask",
                      std::to_string(ex.instance_masks.size()) + " masks for " + std::to_string(ex.num_objects()) +
                          " boxes; Mask R-CNN needs one PNG instance mask per object (write the records with masks)");
  }
  const float w = static_cast<float>(s.rgb.cols), h = static_cast<float>(s.rgb.rows);
  for (size_t k = 0; k < ex.num_objects(); ++k) {
    const bool crowd = k < ex.is_crowd.size() && ex.is_crowd[k] != 0;
    const NormalizedBox& b = ex.boxes[k];
    const float x1 = b.xmin * w, y1 = b.ymin * h, x2 = b.xmax * w, y2 = b.ymax * h;
    // Degenerate boxes and (for training) crowd regions are dropped, as torchvision's COCO reference.
    if (x2 <= x1 || y2 <= y1 || (crowd && options_.train)) continue;
    s.boxes.insert(s.boxes.end(), {x1, y1, x2, y2});
    s.labels.push_back(LabelOf(ex, k, options_, s.source));
    s.is_crowd.push_back(crowd ? 1 : 0);
    s.area.push_back(k < ex.area.size() ? ex.area[k] : 0.f);
    if (options_.load_masks) s.masks.push_back(DecodeMask(ex.instance_masks[k], k, s.rgb, s.source));
  }
  if (options_.train && options_.horizontal_flip_probability > 0) {
    std::mt19937_64 rng(MixSeed(options_.seed ^ MixSeed(static_cast<uint64_t>(position))));
    if (std::uniform_real_distribution<float>(0.f, 1.f)(rng) < options_.horizontal_flip_probability) {
      FlipHorizontally(&s);
    }
  }
  return s;
}

DetectionBatch DetectionDataset::MakeBatch(int64_t index) const {
  const int64_t b = options_.batch_size;
  const int64_t count = BatchSize(index);
  DetectionBatch batch;
  batch.index = index;
  batch.samples.reserve(count);
  for (int64_t k = 0; k < count; ++k) batch.samples.push_back(LoadSample(index * b + k));
  return batch;
}

}  // namespace segtune
