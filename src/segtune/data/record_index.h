// The records a training or evaluation dataset uses, found once and read back by number:
//
//   RecordIndex index(files, /*max_examples=*/0, /*sample_1_of_n=*/1);
//   std::string bytes = index.Read(7);        // Thread-safe.
//   std::string where = index.SourceOf(7);    // "train.record: record 7"
//
// Building it reads every file once and checks every CRC, so a corrupt dataset fails before training
// starts rather than hours in. Memory stays bounded by the number of records, not their bytes: an
// uncompressed file is read back by offset (TFRecordRandomReader); only the records of compressed
// files, which cannot be read by offset, are held in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "segtune/formats/tfrecord.h"

namespace segtune {

class RecordIndex {
 public:
  // Keeps every sample_1_of_n-th record (values below 1 count as 1), up to max_examples (0 = all), in
  // file order. Throws IoError/FormatError naming the file and record.
  RecordIndex(const std::vector<std::filesystem::path>& files, int64_t max_examples, int sample_1_of_n);

  size_t size() const { return records_.size(); }
  // The bytes of record r (r < size()). Throws as TFRecordRandomReader::Read if the file changed.
  std::string Read(size_t r) const;
  // "FILE: record I", I counting every record of the file.
  std::string SourceOf(size_t r) const;

 private:
  // Where a record is: its file, and either its place in that file or its bytes in held_.
  struct RecordRef {
    uint32_t file = 0;
    TFRecordLocation where;
    int64_t held = -1;  // Index into held_ (compressed files), else -1.
  };
  bool Full() const;
  void IndexFile(uint32_t file_number, int64_t* seen);

  std::vector<std::filesystem::path> files_;
  int64_t max_examples_ = 0;
  int sample_1_of_n_ = 1;
  std::vector<RecordRef> records_;
  std::vector<std::unique_ptr<TFRecordRandomReader>> readers_;  // Per file; null for compressed files.
  std::vector<std::string> held_;                                // Records of compressed files.
};

}  // namespace segtune
