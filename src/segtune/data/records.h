// Looking inside TFRecord datasets of tf.train.Example: summary statistics, full verification, and
// export back to COCO JSON + image files (works on records from segtune or from TF's tools).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "segtune/data/coco.h"

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

struct ExportToCocoOptions {
  std::filesystem::path images_dir;  // Where image/encoded bytes are written.
  std::filesystem::path output;      // COCO JSON path.
  // Replace a previous export: output if it is a JSON object, images_dir if it holds only image
  // files. Without it, an existing output or a non-empty images_dir is a UsageError.
  bool overwrite = false;
};

struct ExportToCocoReport {
  int64_t images = 0;
  int64_t annotations = 0;
};

// Writes one COCO image per record (id = image/source_id, as a number if it is one; file_name =
// image/filename's last component, or "<source_id>.<ext>" when absent or repeated, always passed
// through SafeNamer so a record cannot name a file outside images_dir; <ext> from image/format
// when it is an image format, else from the bytes), categories from
// (class/label, class/text), boxes converted back to pixels, image/object/mask PNGs as compressed
// RLE. Throws FormatError naming the file and record on a corrupt record.
ExportToCocoReport ExportRecordsToCoco(const std::vector<std::filesystem::path>& files,
                                       const ExportToCocoOptions& options);

}  // namespace segtune
