#include "segtune/data/semantic_dataset.h"

#include <algorithm>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/od_example.h"
#include "segtune/data/semantic_target.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

namespace {

cv::Mat DecodeImage(const ObjectDetectionExample& ex, const std::string& source) {
  const cv::Mat bgr = DecodeImageBytes(ex.encoded, cv::IMREAD_COLOR, source, "image/encoded");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace

SemanticDataset::SemanticDataset(SemanticDatasetOptions options)
    : RecordDataset(options), options_(std::move(options)) {
  if (options_.num_shards < 1 || options_.shard < 0 || options_.shard >= options_.num_shards ||
      (options_.train && options_.batch_size % options_.num_shards != 0)) {
    throw UsageError("batch size " + std::to_string(options_.batch_size) + " cannot be split into " +
                     std::to_string(options_.num_shards) + " equal shards (shard " + std::to_string(options_.shard) +
                     "): the global batch must be a multiple of the number of processes");
  }
}

void SemanticDataset::LoadSample(int64_t position, cv::Mat* rgb, cv::Mat* label, std::string* source) const {
  const size_t r = RecordAt(position);
  *source = records().SourceOf(r);
  const std::string record = records().Read(r);
  const ObjectDetectionExample ex = ParseObjectDetectionExample(ParseExample(record, *source), *source);
  *rgb = DecodeImage(ex, *source);
  *label = SemanticTarget(ex, rgb->rows, rgb->cols, *source, options_.class_ids);
  CheckLabelValues(*label, *source,
                   ex.semantic_mask.empty() ? "image/object/class/label" : "image/segmentation/class/encoded");
  try {  // An OpenCV assertion below is still about this record: say which one.
    if (options_.train && options_.augment.enabled()) {
      std::mt19937_64 rng(MixSeed(options_.seed ^ MixSeed(static_cast<uint64_t>(position))));
      Augment(options_.augment, rng, options_.ignore_label, rgb, label);
    }
    ApplyResize(options_.resize, options_.ignore_label, rgb, label);
  } catch (const cv::Exception& e) {
    throw FormatError(*source, "", "augmenting or resizing the " + std::to_string(rgb->cols) + "x" +
                                       std::to_string(rgb->rows) + " image failed (OpenCV: " + e.err + ")");
  }
}

// A value the model has no class for would make the loss index outside its logits, or, when a whole
// batch is such values, NaN; either way the cause is the record, so it is named here.
void SemanticDataset::CheckLabelValues(const cv::Mat& label, const std::string& source,
                                           const std::string& key) const {
  if (options_.num_classes > 255) return;  // Every 8-bit value is a class (or ignore_label).
  const cv::Mat bad = (label >= options_.num_classes) & (label != options_.ignore_label);
  const int count = cv::countNonZero(bad);
  if (count == 0) return;
  std::vector<cv::Point> where;
  cv::findNonZero(bad, where);
  const cv::Point first = where.front();
  const int value = label.at<uint8_t>(first);
  throw FormatError(source, key,
                    "label value " + std::to_string(value) + " at pixel (" + std::to_string(first.x) + ", " +
                        std::to_string(first.y) + ") (" + std::to_string(count) + " pixels outside the classes) is " +
                        "not a class of the model: num_classes is " + std::to_string(options_.num_classes) +
                        " (values 0.." + std::to_string(options_.num_classes - 1) + ") and ignore_label is " +
                        std::to_string(options_.ignore_label) +
                        "; raise model.segmentation.num_classes or write the masks with the label map's ids");
}

SemanticBatch SemanticDataset::MakeBatch(int64_t index) const {
  const int64_t b = options_.batch_size;
  int64_t count = BatchSize(index), first = index * b;
  if (options_.train && options_.num_shards > 1) {  // This process's slice of the global batch.
    count = b / options_.num_shards;
    first += options_.shard * count;
  }
  SemanticBatch batch;
  batch.index = index;
  batch.n = static_cast<int>(count);
  std::vector<cv::Mat> images(count), labels(count);
  batch.sources.resize(count);
  for (int64_t k = 0; k < count; ++k) LoadSample(first + k, &images[k], &labels[k], &batch.sources[k]);
  for (const auto& m : images) {
    batch.height = std::max(batch.height, m.rows);
    batch.width = std::max(batch.width, m.cols);
  }
  const size_t plane = static_cast<size_t>(batch.height) * batch.width;
  batch.images.assign(count * 3 * plane, 0.f);
  batch.labels.assign(count * plane, static_cast<uint8_t>(options_.ignore_label));
  float scale[3], shift[3];  // (x / 255 - mean) / std  ==  x * scale + shift.
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.f / (255.f * options_.std[c]);
    shift[c] = -options_.mean[c] / options_.std[c];
  }
  for (int64_t k = 0; k < count; ++k) {
    const cv::Mat& img = images[k];
    float* out = batch.images.data() + k * 3 * plane;
    uint8_t* lab = batch.labels.data() + k * plane;
    for (int y = 0; y < img.rows; ++y) {
      const uint8_t* px = img.ptr<uint8_t>(y);
      const uint8_t* lp = labels[k].ptr<uint8_t>(y);
      const size_t row = static_cast<size_t>(y) * batch.width;
      for (int x = 0; x < img.cols; ++x) {
        for (int c = 0; c < 3; ++c) out[c * plane + row + x] = px[3 * x + c] * scale[c] + shift[c];
      }
      std::copy(lp, lp + img.cols, lab + row);
    }
  }
  if (options_.keep_rgb) batch.rgb = std::move(images);
  return batch;
}

}  // namespace segtune
