#include "segtune/inference/decode_item.h"

#include <atomic>
#include <filesystem>
#include <utility>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/printable.h"
#include "segtune/core/safe_name.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/data/image_decode.h"

namespace segtune {
namespace {

std::string FirstBytes(const tensorflow::Example& example, const char* key) {
  const auto it = example.features().feature().find(key);
  if (it == example.features().feature().end() || it->second.bytes_list().value_size() == 0) return "";
  return it->second.bytes_list().value(0);
}

// The record picks its output file names (masks, overlays), so they go through SanitizeFileName: a
// crafted image/filename or image/source_id must not name a file outside --masks-dir/--overlays-dir.
std::string OutputName(const tensorflow::Example& example, const InferenceItem& item) {
  const std::string filename = FirstBytes(example, "image/filename");
  std::string raw = filename.substr(filename.find_last_of('/') + 1);
  raw = raw.substr(0, raw.rfind('.') == 0 || raw.rfind('.') == std::string::npos ? raw.size() : raw.rfind('.'));
  const char* field = "image/filename";
  if (SanitizeFileName(raw, "").empty()) raw = FirstBytes(example, "image/source_id"), field = "image/source_id";
  const std::string name = SanitizeFileName(raw, "image-" + std::to_string(item.index));
  static std::atomic<int> reported{0};  // Per process: enough to show the problem, not one line per image.
  if (!raw.empty() && name != raw && reported++ < SafeNamer::kShown) {
    Warn("infer: " + item.source + ": " + field + " \"" + EscapeForTerminal(raw) +
         "\" is unsafe as a file name; output files named " + name);
  }
  return name;
}


}  // namespace

DecodedItem DecodeItem(InferenceItem* item) {
  DecodedItem d;
  try {
    if (item->from_record) {
      d.example = ParseExample(item->record, item->source);
      std::string().swap(item->record);
      const auto it = d.example.features().feature().find("image/encoded");
      if (it == d.example.features().feature().end() || it->second.bytes_list().value_size() == 0) {
        d.problem = item->source + ": no image/encoded";
        return d;
      }
      // Decoded in place, no copy of the bytes.
      d.bgr = DecodeImageBytes(it->second.bytes_list().value(0), cv::IMREAD_COLOR, item->source, "image/encoded");
    } else {
      std::string encoded = ReadFile(item->image_path);
      d.bgr = DecodeImageBytes(encoded, cv::IMREAD_COLOR, item->source, "");
      const std::string filename = item->image_path.filename().string();
      SetBytes(&d.example, "image/format", ImageFormatName(DetectImageFormat(encoded)));
      SetBytes(&d.example, "image/encoded", encoded);
      SetBytes(&d.example, "image/filename", filename);
      SetBytes(&d.example, "image/source_id", filename);
      SetInt64(&d.example, "image/height", d.bgr.rows);
      SetInt64(&d.example, "image/width", d.bgr.cols);
    }
    d.name = OutputName(d.example, *item);
  } catch (const Error& e) {
    d.problem = e.what();
  } catch (const std::exception& e) {  // bad_alloc and the like: this item only, the run goes on.
    d.problem = item->source + ": " + e.what();
  }
  return d;
}

}  // namespace segtune
