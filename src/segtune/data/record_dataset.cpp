#include "segtune/data/record_dataset.h"

#include <algorithm>

namespace segtune {

RecordDataset::RecordDataset(const RecordDatasetOptions& options)
    : batch_size_(options.batch_size),
      train_(options.train),
      records_(options.files, options.max_examples, options.sample_1_of_n),
      order_(StartEpochOrder(records_.size(), options.files, options.batch_size, options.seed,
                             options.train && options.shuffle)) {}

int64_t RecordDataset::BatchesPerEpoch() const {
  return segtune::BatchesPerEpoch(static_cast<int64_t>(records_.size()), batch_size_, train_);
}

int64_t RecordDataset::BatchSize(int64_t index) const {
  if (train_) return batch_size_;  // Training streams never end: every batch is full.
  return std::min<int64_t>(batch_size_, static_cast<int64_t>(records_.size()) - index * batch_size_);
}

}  // namespace segtune
