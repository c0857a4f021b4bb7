#include "segtune/data/records.h"

#include <algorithm>
#include <climits>
#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/printable.h"
#include "segtune/core/progress.h"
#include "segtune/core/safe_name.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {
namespace {

std::string RecordName(const std::filesystem::path& file, int64_t index) {
  return file.string() + ": record " + std::to_string(index);
}


}  // namespace

void ForEachExample(const std::vector<std::filesystem::path>& files, std::vector<std::string>* problems,
                    const std::function<void(const tensorflow::Example&, const std::string&)>& fn) {
  Progress progress("records", -1, "rec");
  const bool skip = problems != nullptr || GetInputLimits().skip_corrupt_records;
  for (const auto& file : files) {
    TFRecordReader reader(file, {/*skip_corrupt=*/skip});
    std::string bytes;
    while (reader.Next(&bytes)) {
      const std::string source = RecordName(file, reader.record_index());
      try {
        fn(ParseExample(bytes, source), source);
      } catch (const FormatError& e) {
        if (!skip) throw;
        if (problems) problems->push_back(e.what());
        else Warn(std::string(e.what()) + " (skipped)");
      }
      progress.Advance();
    }
    if (problems) problems->insert(problems->end(), reader.problems().begin(), reader.problems().end());
  }
  progress.Finish();
}

RecordsInfo InspectRecords(const std::vector<std::filesystem::path>& files) {
  RecordsInfo info;
  info.files = int64_t(files.size());
  double sum_w = 0, sum_h = 0;
  int64_t sized = 0;
  ForEachExample(files, &info.problems, [&](const tensorflow::Example& ex, const std::string& source) {
    for (const auto& [key, value] : ex.features().feature()) ++info.records_with_key[key];
    const ObjectDetectionExample od = ParseObjectDetectionExample(ex, source);
    ++info.records;
    if (!od.format.empty()) ++info.formats[od.format];
    if (od.width > 0 && od.height > 0) {
      info.min_width = sized ? std::min(info.min_width, od.width) : od.width;
      info.max_width = std::max(info.max_width, od.width);
      info.min_height = sized ? std::min(info.min_height, od.height) : od.height;
      info.max_height = std::max(info.max_height, od.height);
      sum_w += double(od.width);
      sum_h += double(od.height);
      ++sized;
    }
    const size_t n = std::max({od.boxes.size(), od.class_label.size(), od.class_text.size()});
    info.objects += int64_t(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t label = i < od.class_label.size() ? od.class_label[i] : -1;
      const std::string text = i < od.class_text.size() ? od.class_text[i] : "";
      ++info.classes[{label, text}];
      if (i < od.is_crowd.size() && od.is_crowd[i]) ++info.crowd_objects;
    }
  });
  if (sized) {
    info.mean_width = sum_w / double(sized);
    info.mean_height = sum_h / double(sized);
  }
  return info;
}

std::string FormatRecordsInfo(const RecordsInfo& info) {
  std::ostringstream out;
  out << "files: " << info.files << "\nrecords: " << WithCommas(info.records) << "\nobjects: "
      << WithCommas(info.objects) << " (" << WithCommas(info.crowd_objects) << " crowd)\n";
  out << "image width: min " << info.min_width << ", mean " << std::lround(info.mean_width) << ", max "
      << info.max_width << "\nimage height: min " << info.min_height << ", mean " << std::lround(info.mean_height)
      << ", max " << info.max_height << "\n";
  out << "formats:";
  for (const auto& [format, n] : info.formats) out << " " << format << " " << WithCommas(n);
  out << "\nclasses (label, text: instances):\n";
  for (const auto& [cls, n] : info.classes) {
    out << "  " << (cls.first >= 0 ? std::to_string(cls.first) : "-") << ", " << (cls.second.empty() ? "-" : cls.second)
        << ": " << WithCommas(n) << "\n";
  }
  out << "keys (records with key):\n";
  for (const auto& [key, n] : info.records_with_key) out << "  " << key << ": " << WithCommas(n) << "\n";
  if (!info.problems.empty()) {
    out << "problems (" << info.problems.size() << " records skipped):\n";
    for (const auto& p : info.problems) out << "  " << p << "\n";
  }
  return out.str();
}

VerifyReport VerifyRecords(const std::vector<std::filesystem::path>& files) {
  VerifyReport report;
  report.files = int64_t(files.size());
  std::vector<std::string> problems;
  ForEachExample(files, &problems, [&](const tensorflow::Example& ex, const std::string& source) {
    ParseObjectDetectionExample(ex, source);
    ++report.records;
  });
  report.problems = std::move(problems);
  return report;
}

}  // namespace segtune
