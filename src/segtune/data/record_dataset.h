// What every training or evaluation dataset over TFRecords shares, whatever its task: which records
// it uses (record_index.h), their order in each epoch (epoch_order.h) and which stream positions make
// batch i. SemanticDataset and DetectionDataset derive from it and build the samples.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "segtune/data/epoch_order.h"
#include "segtune/data/record_index.h"

namespace segtune {

struct RecordDatasetOptions {
  std::vector<std::filesystem::path> files;  // TFRecord files (already expanded).
  bool train = true;          // false: one pass in file order (evaluation); each task says what else.
  bool shuffle = true;        // Training only.
  uint64_t seed = 42;
  int batch_size = 1;
  int64_t max_examples = 0;   // Use only the first N records (0 = all).
  int sample_1_of_n = 1;      // Use every n-th record.
};

class RecordDataset {
 public:
  size_t size() const { return records_.size(); }
  // Batches in one epoch (evaluation: the last may be partial).
  int64_t BatchesPerEpoch() const;

 protected:
  // Indexes the records (CRC-checked). Throws IoError/FormatError naming the file and record;
  // FormatError if there is no record at all.
  explicit RecordDataset(const RecordDatasetOptions& options);

  // Batch `index` is stream positions index*batch_size ... + BatchSize(index) - 1.
  int64_t BatchSize(int64_t index) const;
  // The record at a stream position, and its bytes and "FILE: record I" name.
  size_t RecordAt(int64_t position) const { return order_->RecordAt(position); }
  const RecordIndex& records() const { return records_; }

 private:
  int batch_size_;
  bool train_;
  RecordIndex records_;
  std::unique_ptr<EpochOrder> order_;
};

}  // namespace segtune
