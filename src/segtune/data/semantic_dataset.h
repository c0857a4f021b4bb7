// The segmentation input pipeline: TFRecords -> decoded, augmented, normalized batches (torch-free).
//
//   SemanticDataset data(options);                 // Indexes the records (file, offset, length).
//   BatchLoader loader(data, first_batch, -1, workers, prefetch);
//   SemanticBatch batch;
//   while (loader.Next(&batch)) { ... batch.images (N x 3 x H x W floats), batch.labels (N x H x W) ... }
//
// Determinism: batch b holds positions b*B .. b*B+B-1 of an endless stream of epochs; epoch e visits
// the records in a permutation drawn from (seed, e) (EpochOrder), and the augmentation of position p draws from a
// generator seeded with (seed, p). So batch b is the same whatever the worker count and whether the run
// was resumed: a resumed run sees exactly the inputs the uninterrupted run saw.
//
// Memory: the dataset holds an index entry per record (~40 bytes), not the records: each sample is read
// from its file when a batch needs it (pread, so workers read in parallel), and the OS page cache keeps
// hot files in memory as it can. ZLIB/GZIP-compressed TFRecord files have no random access; their
// records are the exception and are held in memory (decompressed).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "segtune/data/augment.h"
#include "segtune/data/epoch_order.h"
#include "segtune/core/ordered_pool.h"
#include "segtune/data/record_dataset.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

// train = false (RecordDatasetOptions) also turns augmentation off.
struct SemanticDatasetOptions : RecordDatasetOptions {
  int num_classes = 2;                       // A label value >= num_classes (other than ignore) is an error.
  int ignore_label = 255;
  std::map<std::string, int> class_ids;      // Label map name -> id (instance masks given by class text).
  ResizePolicy resize;
  AugmentOptions augment;                    // Ignored unless `train`.
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // RGB, on 0..1 pixel values.
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  bool keep_rgb = false;         // Also return the 8-bit RGB images (for overlays).
  // Data-parallel training: this process builds only slice `shard` of num_shards equal slices of each
  // batch (positions b*B + shard*B/num_shards ...); batch_size stays the global batch and must divide.
  int shard = 0;
  int num_shards = 1;
};

struct SemanticBatch {
  int64_t index = -1;  // Batch number in the stream.
  int n = 0, height = 0, width = 0;
  std::vector<float> images;    // n x 3 x height x width, normalized; padding is 0 after normalization.
  std::vector<uint8_t> labels;  // n x height x width; padding is the ignore label.
  std::vector<std::string> sources;  // "file: record i" per sample.
  std::vector<cv::Mat> rgb;          // With keep_rgb: CV_8UC3 RGB per sample (unpadded).
};

class SemanticDataset : public RecordDataset {
 public:
  // Reads every record of every file once to check its CRCs and index it. Throws IoError/FormatError
  // naming the file and record; FormatError if there is no record at all.
  explicit SemanticDataset(SemanticDatasetOptions options);

  const SemanticDatasetOptions& options() const { return options_; }
  // Builds batch `index` (see the determinism note above). Eval datasets: index < BatchesPerEpoch().
  // Throws FormatError naming the record if it cannot be decoded.
  SemanticBatch MakeBatch(int64_t index) const;
  // Decodes and prepares one position of the stream: image CV_8UC3 RGB, label CV_8UC1.
  void LoadSample(int64_t position, cv::Mat* rgb, cv::Mat* label, std::string* source) const;
  // Throws FormatError naming `source`, `key` (the feature the target came from), the value and a
  // pixel when a label is neither a class nor ignore_label.
  void CheckLabelValues(const cv::Mat& label, const std::string& source, const std::string& key) const;

 private:
  SemanticDatasetOptions options_;
};

// Builds batches first, first+1, ... (up to `end`, exclusive; -1 = endless) on `workers` threads, at
// most `prefetch` batches ahead of the consumer, and hands them out in order (OrderedLoader).
class BatchLoader {
 public:
  BatchLoader(const SemanticDataset& dataset, int64_t first, int64_t end, int workers, int prefetch)
      : loader_([&dataset](int64_t index) { return dataset.MakeBatch(index); }, first, end, workers, prefetch) {}

  // The next batch in order; false when `end` is reached. Rethrows a worker's error.
  bool Next(SemanticBatch* batch) { return loader_.Next(batch); }
  // Seconds the consumer spent waiting in Next() so far (data-wait time).
  double wait_seconds() const { return loader_.wait_seconds(); }

 private:
  OrderedLoader<SemanticBatch> loader_;
};

}  // namespace segtune
