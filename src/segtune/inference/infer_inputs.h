// What `segtune infer` reads: TFRecords (paths, globs, shards: see ExpandInputPaths), image files,
// directories of images (sorted, not recursive), and .txt files listing one image path per line
// (relative paths are relative to the list; blank lines and lines starting with '#' are skipped).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "example.pb.h"

namespace segtune {

class TFRecordReader;

// One image to predict, not yet decoded.
struct InferenceItem {
  std::string source;    // For messages: "test.record: record 7" or the image path.
  bool from_record = false;
  std::string record;    // Serialized Example (from_record) — parsed by the decode stage.
  std::filesystem::path image_path;  // Otherwise: the image file (read by the decode stage).
  int64_t index = 0;     // 0-based position among all items.
};

// Streams the inputs in the order given. Corrupt TFRecord framing is skipped and listed in problems()
// when skip_corrupt_records is set; otherwise it throws FormatError naming the file and record.
class InferenceInputs {
 public:
  // Resolves every spec now. Throws IoError naming a spec that matches nothing.
  InferenceInputs(const std::vector<std::string>& specs, bool skip_corrupt_records);
  ~InferenceInputs();

  // Fills *item with the next item; false at the end.
  bool Next(InferenceItem* item);
  // Messages about skipped TFRecord data, collected so far.
  std::vector<std::string> problems() const;
  // Total items if known without reading (only image inputs); -1 when TFRecords are involved.
  int64_t KnownTotal() const { return known_total_; }

 private:
  struct Source {
    bool is_record = false;
    std::filesystem::path path;
  };
  std::vector<Source> sources_;
  size_t next_source_ = 0;
  std::unique_ptr<TFRecordReader> reader_;
  bool skip_corrupt_records_ = true;
  std::vector<std::string> finished_problems_;
  int64_t next_index_ = 0;
  int64_t known_total_ = 0;
};

// True for the file extensions treated as images (.jpg .jpeg .png .bmp .webp .tif .tiff, any case).
bool IsImagePath(const std::filesystem::path& path);

}  // namespace segtune
