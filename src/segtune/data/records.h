// Looking inside TFRecord datasets of tf.train.Example: summary statistics and full verification
// (works on records from segtune or from TF's tools). Export to COCO: records_export.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tensorflow {
class Example;
}

namespace segtune {

struct RecordsInfo {
  int64_t files = 0;
  int64_t records = 0;
  int64_t objects = 0;
  int64_t crowd_objects = 0;
  std::map<std::string, int64_t> records_with_key;  // Feature key -> records that have it.
  std::map<std::string, int64_t> formats;           // image/format -> records.
  // (class/label, class/text) -> instances. Label -1 when only text is present.
  std::map<std::pair<int64_t, std::string>, int64_t> classes;
  int64_t min_width = 0, max_width = 0, min_height = 0, max_height = 0;
  double mean_width = 0, mean_height = 0;
  std::vector<std::string> problems;  // Corrupt records or unparsable Examples (skipped).
};

// Reads every record of every file (skipping and listing corrupt ones).
RecordsInfo InspectRecords(const std::vector<std::filesystem::path>& files);
// A human-readable multi-line report.
std::string FormatRecordsInfo(const RecordsInfo& info);

struct VerifyReport {
  int64_t files = 0;
  int64_t records = 0;
  std::vector<std::string> problems;  // Empty when everything is intact.
};

// Checks every length and data CRC and that every record parses as a tf.train.Example whose
// object-detection keys are consistent (types, per-object list lengths). Never throws for bad data.
VerifyReport VerifyRecords(const std::vector<std::filesystem::path>& files);

// Calls fn(example, source) for each record of `files` in order, showing progress; source is
// "<file>: record N". Corrupt records and unparsable Examples go to *problems when it is given, are
// skipped with a warning under --skip-corrupt, and otherwise throw FormatError.
void ForEachExample(const std::vector<std::filesystem::path>& files, std::vector<std::string>* problems,
                    const std::function<void(const tensorflow::Example&, const std::string&)>& fn);

}  // namespace segtune
