// CreateML object-detection JSON (docs/formats.md §16): an array of {image, annotations: [{label,
// coordinates: {x, y, width, height}}]} where x, y is the box's CENTRE, in pixels. Boxes only:
// written masks and polygons keep their box (with a warning). Categories are numbered 1..N in
// first-seen order; image sizes are not in the file and are read from image headers when present.
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/data/convert/dataset_builder.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/image_file_size.h"
#include "segtune/data/convert/json_input.h"
#include "segtune/formats/image_codec.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int DetectCreateMl(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec) || input.extension() != ".json") return 0;
  const std::string head = FileHead(input);
  const auto has = [&](const char* key) { return head.find(key) != std::string::npos; };
  return FirstNonBlank(head) == '[' && (has("\"image\"") || has("\"imagefilename\"")) && has("\"coordinates\"") &&
                 has("\"label\"")
             ? 20
             : 0;
}

// Create ML's documentation spells the keys "imagefilename" and "annotation"; the files Roboflow and
// other exporters write spell them "image" and "annotations". Either is read.
const char* KeyOf(const json& entry, const char* common, const char* apple) {
  return entry.is_object() && !entry.contains(common) && entry.contains(apple) ? apple : common;
}

void ReadEntry(const json& entry, const JsonPlace& place, LabeledDataset* dataset) {
  CocoImage image;
  image.id = {std::to_string(dataset->coco.images.size() + 1), true};
  image.file_name = StringAt(entry, KeyOf(entry, "image", "imagefilename"), place);
  if (const auto size = ReadImageFileSize(ImageFilePath(*dataset, image.file_name))) {
    image.width = size->width, image.height = size->height;
  }
  const json& annotations = ArrayAt(entry, KeyOf(entry, "annotations", "annotation"), place);
  for (size_t i = 0; i < annotations.size(); ++i) {
    const JsonPlace ap{place.file, place.element + " ('" + image.file_name + "'): annotations[" + std::to_string(i) + "]"};
    const json& box = ExpectObject(Member(annotations[i], "coordinates", ap), ap.At("coordinates"));
    const JsonPlace bp = ap.At("coordinates");
    CocoAnnotation a;
    a.id = int64_t(dataset->coco.annotations.size()) + 1;
    a.image_id = image.id;
    a.category_id = CategoryIdFor(&dataset->coco, StringAt(annotations[i], "label", ap));
    const double w = NumberAt(box, "width", bp), h = NumberAt(box, "height", bp);
    a.bbox = {NumberAt(box, "x", bp) - w / 2, NumberAt(box, "y", bp) - h / 2, w, h};
    a.area = w * h;
    dataset->coco.annotations.push_back(std::move(a));
  }
  dataset->coco.images.push_back(std::move(image));
}

LabeledDataset ReadCreateMl(const fs::path& input, const ReadOptions& options, ConversionReport*) {
  const json root = LoadJsonFile(input);
  LabeledDataset dataset;
  dataset.images_dir = options.images_dir.empty() ? input.parent_path() : options.images_dir;
  ExpectArray(root, {input, ""});
  for (size_t i = 0; i < root.size(); ++i) {
    const JsonPlace place{input, "[" + std::to_string(i) + "]"};
    try {
      ReadEntry(ExpectObject(root[i], place), place, &dataset);
    } catch (const json::exception& e) {
      place.Fail(std::string("unexpected JSON field type (") + e.what() + ")");
    }
  }
  return dataset;
}

void WriteCreateMl(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
                   ConversionReport* report) {
  CheckOutputFile(output, options.overwrite, {"convert", "-o", "CreateML JSON file", {}},
                  [](const fs::path& p) { return FileStartsWith(p, '['); });
  const auto names = CategoryNames(dataset.coco);
  std::map<std::string, json> by_image;
  int shapes_dropped = 0;
  for (const auto& a : dataset.coco.annotations) {
    const auto [x, y, w, h] = a.bbox;
    shapes_dropped += a.segmentation.empty() ? 0 : 1;
    by_image[a.image_id.text].push_back(
        {{"label", names.count(a.category_id) ? names.at(a.category_id) : std::to_string(a.category_id)},
         {"coordinates", {{"x", x + w / 2}, {"y", y + h / 2}, {"width", w}, {"height", h}}}});
  }
  json entries = json::array();
  for (const auto& image : dataset.coco.images) {
    const auto it = by_image.find(image.id.text);
    entries.push_back({{"image", image.file_name}, {"annotations", it == by_image.end() ? json::array() : it->second}});
  }
  if (shapes_dropped > 0) {
    report->Warn(output, "", std::to_string(shapes_dropped) + " polygon/mask shape(s) written as their boxes (CreateML has boxes only)");
  }
  WriteFileAtomic(output, entries.dump(1) + "\n");
  report->written.push_back(output);
}

}  // namespace

AnnotationFormat CreateMlAnnotationFormat() {
  return {"createml", DetectCreateMl, ReadCreateMl, WriteCreateMl};
}

}  // namespace segtune
