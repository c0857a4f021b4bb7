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

#include "segtune/data/record_dataset.h"

namespace segtune {

// train = false (RecordDatasetOptions) also turns flipping off and keeps crowd objects.
struct DetectionDatasetOptions : RecordDatasetOptions {
  int num_classes = 2;                       // Including background; labels must be 1..num_classes-1.
  std::map<std::string, int> class_ids;      // Label map name -> id, for objects with a class text only.
  bool load_masks = false;                   // Decode image/object/mask PNGs (Mask R-CNN).
  float horizontal_flip_probability = 0;     // Training only.
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

class DetectionDataset : public RecordDataset {
 public:
  // Indexes every record of every file, CRC-checked (record_index.h). Throws IoError/FormatError naming the
  // file and record; FormatError if there is no record at all, UsageError for batch_size < 1.
  explicit DetectionDataset(DetectionDatasetOptions options);

  const DetectionDatasetOptions& options() const { return options_; }
  // Builds batch `index`. Throws FormatError naming the record for an image or mask that does not
  // decode, a mask of the wrong size, or a label outside 1..num_classes-1.
  DetectionBatch MakeBatch(int64_t index) const;
  // One position of the stream (see the determinism note above).
  DetectionSample LoadSample(int64_t position) const;

 private:
  DetectionDatasetOptions options_;
};

}  // namespace segtune
