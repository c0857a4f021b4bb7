// The detection input pipeline: TFRecords in the TF OD API layout (create_coco_tf_record.py's keys,
// segtune's coco2tfrecord) -> decoded images with boxes in pixels, labels and instance masks (torch-free).
//
//   DetectionDataset data(options);
//   OrderedLoader<DetectionBatch> loader([&](int64_t b) { return data.MakeBatch(b); }, first, end, workers, 4);
//
// Images keep their decoded size: the model's transform resizes and pads them (torchvision's
// GeneralizedRCNN takes a list of differently sized images), so a batch is a list, not a tensor.
// Determinism as SemanticDataset: batch b holds positions b*B .. b*B+B-1 of an endless stream of
// epochs, epoch e visits the records in a permutation drawn from (seed, e) (EpochOrder), and the flip of position p
// draws from (seed, p); a resumed run sees exactly the inputs of the uninterrupted one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "segtune/data/epoch_order.h"

namespace segtune {

struct DetectionDatasetOptions {
  std::vector<std::filesystem::path> files;  // TFRecord files (already expanded).
  int num_classes = 2;                       // Including background; labels must be 1..num_classes-1.
  std::map<std::string, int> class_ids;      // Label map name -> id, for objects with a class text only.
  bool load_masks = false;                   // Decode image/object/mask PNGs (Mask R-CNN).
  bool train = true;                         // false: one pass in order, no flip, crowd objects kept.
  bool shuffle = true;
  uint64_t seed = 42;
  int batch_size = 1;
  float horizontal_flip_probability = 0;     // Training only.
  int64_t max_examples = 0;                  // Use only the first N records (0 = all).
  int sample_1_of_n = 1;                     // Use every n-th record.
};

// One image with its objects, boxes in pixels of the decoded image.
struct DetectionSample {
  cv::Mat rgb;                  // CV_8UC3 RGB.
  std::vector<float> boxes;     // N x 4: x1, y1, x2, y2 (pixels).
  std::vector<int64_t> labels;  // N, 1..num_classes-1.
  std::vector<uint8_t> is_crowd;  // N (training drops crowd objects, as torchvision's COCO reference).
  std::vector<float> area;      // N: image/object/area when the record has it, else 0.
  std::vector<cv::Mat> masks;   // With load_masks: N x CV_8UC1 0/1 masks of the image's size.
  std::string source;           // "file: record i".
  std::string source_id;        // image/source_id ("" when absent).
  bool flipped = false;
};

struct DetectionBatch {
  int64_t index = -1;
  std::vector<DetectionSample> samples;
};

class DetectionDataset {
 public:
  // Reads every record of every file (CRC-checked) into memory. Throws IoError/FormatError naming the
  // file and record; FormatError if there is no record at all, UsageError for batch_size < 1.
  explicit DetectionDataset(DetectionDatasetOptions options);

  size_t size() const { return records_.size(); }
  const DetectionDatasetOptions& options() const { return options_; }
  // Batches in one epoch (eval: the last may be partial).
  int64_t BatchesPerEpoch() const;
  // Builds batch `index`. Throws FormatError naming the record for an image or mask that does not
  // decode, a mask of the wrong size, or a label outside 1..num_classes-1.
  DetectionBatch MakeBatch(int64_t index) const;
  // One position of the stream (see the determinism note above).
  DetectionSample LoadSample(int64_t position) const;

 private:
  size_t RecordAt(int64_t position) const;

  DetectionDatasetOptions options_;
  std::vector<std::string> records_;
  std::vector<std::string> sources_;
  std::unique_ptr<EpochOrder> order_;  // Set once the records are known.
};

}  // namespace segtune
