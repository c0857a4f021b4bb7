#include "segtune/inference/decode_item.h"

#include <filesystem>
#include <utility>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/example.h"
#include "segtune/data/image_codec.h"
#include "segtune/data/image_decode.h"

namespace segtune {
namespace {

std::string FirstBytes(const tensorflow::Example& example, const char* key) {
  const auto it = example.features().feature().find(key);
  if (it == example.features().feature().end() || it->second.bytes_list().value_size() == 0) return "";
  return it->second.bytes_list().value(0);
}

std::string OutputName(const tensorflow::Example& example, int64_t index) {
  std::string name = std::filesystem::path(FirstBytes(example, "image/filename")).stem().string();
  if (name.empty()) name = FirstBytes(example, "image/source_id");
  if (name.empty()) name = "image-" + std::to_string(index);
  for (char& c : name) {
    if (c == '/' || c == '\\') c = '_';
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
    d.name = OutputName(d.example, item->index);
  } catch (const Error& e) {
    d.problem = e.what();
  } catch (const std::exception& e) {  // bad_alloc and the like: this item only, the run goes on.
    d.problem = item->source + ": " + e.what();
  }
  return d;
}

}  // namespace segtune
