#include "segtune/data/records_export.h"

#include <cctype>
#include <climits>
#include <cmath>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/printable.h"
#include "segtune/core/safe_name.h"
#include "segtune/data/image_decode.h"
#include "segtune/data/records.h"
#include "segtune/formats/coco.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/rle.h"

namespace segtune {
namespace {

// The file extension for an exported image. image/format comes from the record, so only a known
// image format is trusted; anything else ("bashrc", "../x") is replaced by what the bytes are.
std::string Extension(const std::string& format, const std::string& encoded, const std::string& source) {
  std::string lower;
  for (char c : format) lower += char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "jpeg" || lower == "jpg") return ".jpg";
  if (lower == "png" || lower == "gif" || lower == "bmp" || lower == "webp") return "." + lower;
  const std::string detected = ImageFormatName(DetectImageFormat(encoded));
  const std::string ext = detected == "jpeg" ? ".jpg" : detected.empty() ? ".img" : "." + detected;
  if (!format.empty()) {
    Warn("records export: " + source + ": image/format \"" + EscapeForTerminal(format) +
         "\" is not an image format (expected jpeg, png, gif, bmp or webp); using " + ext);
  }
  return ext;
}

// `value` if it lies in [lo, hi]; else FormatError naming the record and feature.
int64_t InCocoRange(int64_t value, int64_t lo, int64_t hi, const std::string& source, const std::string& key) {
  if (value < lo || value > hi) {
    throw FormatError(source, key, std::to_string(value) + " does not fit COCO (expected " + std::to_string(lo) +
                                       " to " + std::to_string(hi) + ")");
  }
  return value;
}

}  // namespace

ExportToCocoReport ExportRecordsToCoco(const std::vector<std::filesystem::path>& files,
                                       const ExportToCocoOptions& options) {
  CheckOutputFile(options.output, options.overwrite, {"records export", "--output", "COCO JSON", {}},
                  [](const std::filesystem::path& p) { return FileStartsWith(p, '{'); });
  CheckOutputFilesDirectory(options.images_dir, options.overwrite, {"records export", "--images-dir", "records export", {}},
                            {".jpg", ".png", ".gif", ".bmp", ".webp", ".img"});
  CocoDataset coco;
  std::map<int64_t, std::string> categories;
  SafeNamer names("records export");  // Record fields must not pick where files go.
  std::map<std::string, int64_t> text_ids;  // For records with class/text but no class/label.
  ExportToCocoReport report;
  int64_t next_annotation = 1;
  ForEachExample(files, nullptr, [&](const tensorflow::Example& ex, const std::string& source) {
    const ObjectDetectionExample od = ParseObjectDetectionExample(ex, source);
    CocoImage image;
    const std::string sid = od.source_id.empty() ? std::to_string(coco.images.size() + 1) : od.source_id;
    const bool numeric = !sid.empty() && sid.size() < 18 && std::all_of(sid.begin(), sid.end(), ::isdigit);
    image.id = {sid, numeric};
    // image/filename's last component, else (absent, or the name is taken) "<source_id>.<format>".
    const std::string base = od.filename.substr(od.filename.find_last_of('/') + 1);
    const std::string clean = SanitizeFileName(base, "");
    const std::string name = clean.empty() || names.Taken(clean)
                                 ? names.Name(sid + Extension(od.format, od.encoded, source), source + ": image/source_id")
                                 : names.Name(base, source + ": image/filename");
    image.file_name = name;
    // COCO's width/height and category ids have the ranges every COCO reader of segtune accepts
    // (formats/coco.h): an out-of-range record value is an error, never a wrapped int in the JSON.
    image.width = static_cast<int>(InCocoRange(od.width, 0, INT32_MAX, source, "image/width"));
    image.height = static_cast<int>(InCocoRange(od.height, 0, INT32_MAX, source, "image/height"));
    if (!od.encoded.empty()) {
      WriteFileAtomic(options.images_dir / name, od.encoded);
      if (image.width <= 0 || image.height <= 0) {
        if (const auto size = ReadImageSize(od.encoded)) {
          image.width = size->width;
          image.height = size->height;
        }
      }
    }
    const double W = image.width, H = image.height;
    for (size_t i = 0; i < od.boxes.size(); ++i) {
      CocoAnnotation ann;
      ann.id = next_annotation++;
      ann.image_id = image.id;
      const std::string text = i < od.class_text.size() ? od.class_text[i] : "";
      if (i < od.class_label.size()) {
        ann.category_id = InCocoRange(od.class_label[i], INT32_MIN, INT32_MAX, source,
                                      "image/object/class/label[" + std::to_string(i) + "]");
      } else {
        const auto it = text_ids.emplace(text, int64_t(text_ids.size() + 1)).first;
        ann.category_id = it->second;
      }
      categories.emplace(ann.category_id, text.empty() ? "class_" + std::to_string(ann.category_id) : text);
      const NormalizedBox& b = od.boxes[i];
      ann.bbox = {b.xmin * W, b.ymin * H, (b.xmax - b.xmin) * W, (b.ymax - b.ymin) * H};
      ann.iscrowd = i < od.is_crowd.size() && od.is_crowd[i] != 0;
      ann.area = i < od.area.size() ? od.area[i] : ann.bbox[2] * ann.bbox[3];
      if (i < od.instance_masks.size()) {
        std::vector<uint8_t> pixels;
        int mh = 0, mw = 0;
        DecodeGray(od.instance_masks[i], source, "image/object/mask[" + std::to_string(i) + "]", &pixels, &mh, &mw);
        ann.segmentation.rle = RleEncode(pixels.data(), uint32_t(mh), uint32_t(mw));
        if (i >= od.area.size()) ann.area = double(RleArea(*ann.segmentation.rle));
      }
      coco.annotations.push_back(std::move(ann));
    }
    coco.images.push_back(std::move(image));
  });
  for (const auto& [id, name] : categories) coco.categories.push_back({id, name, "", nlohmann::json::object()});
  SaveCoco(coco, options.output);
  report.images = int64_t(coco.images.size());
  report.annotations = int64_t(coco.annotations.size());
  return report;
}

}  // namespace segtune
