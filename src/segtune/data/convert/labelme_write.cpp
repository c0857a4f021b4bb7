// LabeledDataset -> a folder of LabelMe JSON files, one per image (docs/formats.md §16). LabelMe has
// no masks: masks are traced into polygons (mask_polygons.h), holes dropped with a warning, several
// regions or polygon parts of one instance written as shapes sharing a group_id.
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/safe_name.h"
#include "segtune/core/url.h"
#include "segtune/data/convert/dataset_builder.h"
#include "segtune/data/convert/labelme.h"
#include "segtune/data/convert/mask_polygons.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The LabelMe release whose file layout this writes (imagePath relative, imageData null allowed).
constexpr const char* kLabelMeVersion = "5.2.1";

json Shape(const std::string& label, const std::vector<double>& xy, std::optional<int> group) {
  json points = json::array();
  for (size_t i = 0; i + 1 < xy.size(); i += 2) points.push_back({xy[i], xy[i + 1]});
  return {{"label", label},
          {"points", points},
          {"group_id", group ? json(*group) : json(nullptr)},
          {"description", ""},
          {"shape_type", "polygon"},
          {"flags", json::object()}};
}

class LabelMeWriter {
 public:
  LabelMeWriter(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
                ConversionReport* report)
      : dataset_(dataset), output_(output), options_(options), report_(report), names_(CategoryNames(dataset.coco)) {}

  void Write(const fs::path& dir) {
    std::map<std::string, std::vector<const CocoAnnotation*>> by_image;
    for (const auto& a : dataset_.coco.annotations) by_image[a.image_id.text].push_back(&a);
    SafeNamer namer("convert");
    for (const auto& image : dataset_.coco.images) {
      const std::string wanted = fs::path(image.file_name).stem().string() + ".json";
      const std::string name = namer.Name(wanted, output_.string() + ": image '" + image.file_name + "'", "image.json");
      if (name != wanted) report_->Warn(output_, "image '" + image.file_name + "'", "written as '" + name + "'");
      WriteFileAtomic(dir / name, Document(image, by_image[image.id.text]).dump(2) + "\n");
    }
    if (scores_dropped_ > 0) {
      report_->Warn(output_, "", std::to_string(scores_dropped_) + " annotation score(s) dropped (LabelMe has none)");
    }
  }

 private:
  // imagePath is relative to the JSON file, which is written into output_.
  std::string ImagePath(const CocoImage& image) const {
    if (IsUrl(image.file_name)) return image.file_name;
    const fs::path target = fs::absolute(ImageFilePath(dataset_, image.file_name)).lexically_normal();
    return target.lexically_relative(fs::absolute(output_).lexically_normal()).generic_string();
  }

  json Document(const CocoImage& image, const std::vector<const CocoAnnotation*>& annotations) {
    json shapes = json::array();
    int next_group = 1;
    for (const CocoAnnotation* a : annotations) AddShapes(*a, image, &next_group, &shapes);
    return {{"version", kLabelMeVersion},
            {"flags", json::object()},
            {"shapes", shapes},
            {"imagePath", ImagePath(image)},
            {"imageData", nullptr},
            {"imageHeight", image.height > 0 ? json(image.height) : json(nullptr)},
            {"imageWidth", image.width > 0 ? json(image.width) : json(nullptr)}};
  }

  void AddShapes(const CocoAnnotation& a, const CocoImage& image, int* next_group, json* shapes) {
    const std::string label = names_.count(a.category_id) ? names_.at(a.category_id) : std::to_string(a.category_id);
    const std::string element = "image '" + image.file_name + "': annotation " + std::to_string(a.id);
    if (a.score) ++scores_dropped_;
    std::vector<std::vector<double>> parts = a.segmentation.polygons;
    if (a.segmentation.rle) parts = Trace(*a.segmentation.rle, element);
    if (parts.empty() && a.segmentation.empty()) {
      const auto [x, y, w, h] = a.bbox;
      json rectangle = Shape(label, {x, y, x + w, y + h}, std::nullopt);
      rectangle["shape_type"] = "rectangle";
      shapes->push_back(std::move(rectangle));
      return;
    }
    if (parts.empty()) return;
    const std::optional<int> group = parts.size() > 1 ? std::optional<int>((*next_group)++) : std::nullopt;
    for (const auto& part : parts) shapes->push_back(Shape(label, part, group));
  }

  std::vector<std::vector<double>> Trace(const Rle& rle, const std::string& element) {
    const TraceResult traced = TracePolygons(rle, {options_.polygon_tolerance, options_.min_area});
    std::vector<std::vector<double>> parts;
    size_t holes = 0;
    for (const auto& region : traced.regions) {
      parts.push_back(region.outer);
      holes += region.holes.size();
    }
    if (holes > 0) report_->Warn(output_, element, std::to_string(holes) + " hole(s) of the mask dropped (LabelMe polygons have none)");
    if (traced.dropped_small > 0) {
      report_->Warn(output_, element, std::to_string(traced.dropped_small) + " mask region(s) under --min-area dropped");
    }
    if (parts.empty()) report_->Warn(output_, element, "mask has no region to trace: annotation dropped");
    return parts;
  }

  const LabeledDataset& dataset_;
  fs::path output_;
  WriteOptions options_;
  ConversionReport* report_;
  std::map<int64_t, std::string> names_;
  int scores_dropped_ = 0;
};

}  // namespace

void WriteLabelMe(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
                  ConversionReport* report) {
  CheckOutputFilesDirectory(output, options.overwrite, {"convert", "-o", "LabelMe folder", {}}, {".json"});
  AtomicDirectory dir(output);
  LabelMeWriter(dataset, output, options, report).Write(dir.temp_path());
  dir.Commit();
  report->written.push_back(output);
}

}  // namespace segtune
