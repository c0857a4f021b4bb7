#include "segtune/data/record_index.h"

#include <algorithm>

namespace segtune {

RecordIndex::RecordIndex(const std::vector<std::filesystem::path>& files, int64_t max_examples, int sample_1_of_n)
    : files_(files), max_examples_(max_examples), sample_1_of_n_(std::max(1, sample_1_of_n)) {
  int64_t seen = 0;
  for (size_t f = 0; f < files_.size() && !Full(); ++f) IndexFile(static_cast<uint32_t>(f), &seen);
}

bool RecordIndex::Full() const { return max_examples_ > 0 && static_cast<int64_t>(records_.size()) >= max_examples_; }

void RecordIndex::IndexFile(uint32_t file_number, int64_t* seen) {
  const std::filesystem::path& file = files_[file_number];
  TFRecordReader reader(file);
  readers_.push_back(reader.compressed() ? nullptr : std::make_unique<TFRecordRandomReader>(file));
  std::string record;
  while (!Full() && reader.Next(&record)) {
    if ((*seen)++ % sample_1_of_n_ != 0) continue;
    RecordRef ref;
    ref.file = file_number;
    ref.where = {reader.record_offset(), record.size(), reader.record_index()};
    if (reader.compressed()) {
      ref.held = static_cast<int64_t>(held_.size());
      held_.push_back(std::move(record));
    }
    records_.push_back(ref);
  }
}

std::string RecordIndex::Read(size_t r) const {
  const RecordRef& ref = records_[r];
  return ref.held >= 0 ? held_[static_cast<size_t>(ref.held)] : readers_[ref.file]->Read(ref.where);
}

std::string RecordIndex::SourceOf(size_t r) const {
  const RecordRef& ref = records_[r];
  return files_[ref.file].string() + ": record " + std::to_string(ref.where.index);
}

}  // namespace segtune
