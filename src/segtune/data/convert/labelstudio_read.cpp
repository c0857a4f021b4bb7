// Label Studio JSON / JSON-MIN -> LabeledDataset (docs/formats.md §16). Coordinates are percent of
// original_width/original_height; they become pixels here. Categories are numbered 1..N in
// first-seen order (Label Studio names labels, it does not number them).
#include <cmath>
#include <optional>
#include <set>

#include "segtune/core/error.h"
#include "segtune/data/convert/brush_rle.h"
#include "segtune/data/convert/dataset_builder.h"
#include "segtune/data/convert/json_input.h"
#include "segtune/data/convert/labelstudio.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/image_header.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kPi = 3.14159265358979323846;
const char* const kRegionTypes[] = {"rectanglelabels", "polygonlabels", "brushlabels"};
// JSON-MIN record fields that are Label Studio's own, not data fields or labeling controls.
const std::set<std::string> kMinMetaFields = {"id", "annotator", "annotation_id", "created_at", "updated_at",
                                              "lead_time", "image"};

// What a region needs besides its value: the task's image and where the region came from.
struct RegionContext {
  CocoImage* image = nullptr;
  JsonPlace place;
  std::optional<double> score;
  std::string from_name, to_name;
};

class LabelStudioReader {
 public:
  LabelStudioReader(const fs::path& file, const fs::path& images_dir, ConversionReport* report)
      : file_(file), report_(report) {
    dataset_.images_dir = images_dir;
  }

  LabeledDataset Read(const json& root) {
    ExpectArray(root, {file_, ""});
    for (size_t i = 0; i < root.size(); ++i) {
      const JsonPlace place{file_, "[" + std::to_string(i) + "]"};
      ExpectObject(root[i], place);
      if (root[i].contains("data")) {
        ReadTask(root[i], place);
      } else {
        ReadMinRecord(root[i], place);
      }
    }
    return std::move(dataset_);
  }

 private:
  CocoImage* AddImage(const json& record, const std::string& data_image, const JsonPlace& place) {
    CocoImage image;
    const auto id = record.find("id");
    if (id != record.end() && id->is_number_integer() && !image_ids_.count(id->dump())) {
      image.id = {id->dump(), true};
    } else {
      // No usable id: the position, unless a task claimed that number.
      const std::string position = std::to_string(dataset_.coco.images.size() + 1);
      image.id = image_ids_.count(position) ? ImageId{"task-" + position, false} : ImageId{position, true};
    }
    image_ids_.insert(image.id.text);
    image.file_name = LabelStudioFileName(data_image);
    if (image.file_name.empty()) place.Fail("data.image is empty");
    if (image.file_name != data_image) image.extra[kLabelStudioImageKey] = data_image;
    dataset_.coco.images.push_back(std::move(image));
    return &dataset_.coco.images.back();
  }

  // The task's data field holding the image: "image", else its only string field.
  std::string DataImage(const json& data, const JsonPlace& place) {
    ExpectObject(data, place);
    if (data.contains("image")) return StringAt(data, "image", place);
    const json* only = nullptr;
    for (const auto& [key, value] : data.items()) {
      if (!value.is_string()) continue;
      if (only) place.Fail("expected a field \"image\" (several string fields, cannot tell which is the image)");
      only = &value;
    }
    if (!only) place.Fail("expected a field \"image\" with the image's path or URL");
    return only->get<std::string>();
  }

  void ReadTask(const json& task, const JsonPlace& place) {
    const std::string data_image = DataImage(task["data"], place.At("data"));
    // Index, not pointer: images may grow while regions are added.
    const size_t image_index = dataset_.coco.images.size();
    AddImage(task, data_image, place);
    const std::string name = "task " + dataset_.coco.images[image_index].id.text + " ('" + data_image + "')";
    const json* results = nullptr;
    std::optional<double> default_score;
    JsonPlace results_place{file_, name};
    const json empty = json::array();
    const json& annotations = task.contains("annotations") ? ArrayAt(task, "annotations", place) : empty;
    size_t used = 0, cancelled = 0;
    for (size_t a = 0; a < annotations.size(); ++a) {
      const JsonPlace ap{file_, name + ": annotations[" + std::to_string(a) + "]"};
      ExpectObject(annotations[a], ap);
      if (annotations[a].value("was_cancelled", false)) {
        ++cancelled;
        continue;
      }
      if (!results) {
        results = &ArrayAt(annotations[a], "result", ap);
        results_place = ap.At("result");
      }
      ++used;
    }
    if (used > 1) report_->Warn(file_, name, std::to_string(used - 1) + " more annotation(s) of this task ignored (the first is read)");
    if (cancelled > 0) report_->Warn(file_, name, std::to_string(cancelled) + " cancelled annotation(s) ignored");
    if (!results && task.contains("predictions")) {
      const json& predictions = ArrayAt(task, "predictions", place);
      if (!predictions.empty()) {
        const JsonPlace pp{file_, name + ": predictions[0]"};
        ExpectObject(predictions[0], pp);
        results = &ArrayAt(predictions[0], "result", pp);
        results_place = pp.At("result");
        if (predictions[0].contains("score") && predictions[0]["score"].is_number()) {
          default_score = predictions[0]["score"].get<double>();
        }
        if (predictions[0].contains("model_version") && predictions[0]["model_version"].is_string()) {
          dataset_.coco.info["model_version"] = predictions[0]["model_version"];
        }
        report_->Warn(file_, name, "no annotation: its first prediction is read (with scores)");
      }
    }
    if (!results) return;
    for (size_t r = 0; r < results->size(); ++r) {
      const JsonPlace rp = results_place.At("[" + std::to_string(r) + "]");
      const json& result = ExpectObject((*results)[r], rp);
      const std::string type = result.contains("type") && result["type"].is_string() ? result["type"].get<std::string>() : "";
      RegionContext context{&dataset_.coco.images[image_index], rp, default_score,
                            result.value("from_name", std::string()), result.value("to_name", std::string())};
      if (result.contains("score") && result["score"].is_number()) context.score = result["score"].get<double>();
      AddRegion(type, Member(result, "value", rp), result, context);
    }
  }

  // JSON-MIN: {"image": ..., "<control name>": [value + original_width/height, ...], ...}.
  void ReadMinRecord(const json& record, const JsonPlace& place) {
    const std::string data_image = StringAt(record, "image", place);
    const size_t image_index = dataset_.coco.images.size();
    AddImage(record, data_image, place);
    const std::string name = "record " + dataset_.coco.images[image_index].id.text + " ('" + data_image + "')";
    for (const auto& [key, regions] : record.items()) {
      if (kMinMetaFields.count(key) || !regions.is_array()) continue;
      for (size_t r = 0; r < regions.size(); ++r) {
        const JsonPlace rp{file_, name + ": " + key + "[" + std::to_string(r) + "]"};
        if (!regions[r].is_object()) continue;  // A data field that is a list, not regions.
        std::string type;
        for (const char* t : kRegionTypes) {
          if (regions[r].contains(t)) type = t;
        }
        if (type.empty()) {
          report_->Warn(file_, rp.element, "not a rectangle, polygon or brush region: skipped");
          continue;
        }
        AddRegion(type, regions[r], regions[r], {&dataset_.coco.images[image_index], rp, std::nullopt, key, ""});
      }
    }
  }

  // `sizes` is the object holding original_width/original_height (the result, or the JSON-MIN value).
  void AddRegion(const std::string& type, const json& value, const json& sizes, const RegionContext& c) {
    if (type != kRegionTypes[0] && type != kRegionTypes[1] && type != kRegionTypes[2]) {
      report_->Warn(file_, c.place.element, "type '" + type + "' is not a region segtune converts: skipped");
      return;
    }
    const JsonPlace vp = c.place.At("value");
    ExpectObject(value, vp);
    const std::string label = Label(value, type, vp);
    if (label.empty()) return;
    const int width = PixelSizeAt(sizes, "original_width", c.place);
    const int height = PixelSizeAt(sizes, "original_height", c.place);
    CocoImage& image = *c.image;
    if ((image.width && image.width != width) || (image.height && image.height != height)) {
      c.place.Fail("original_width x original_height " + std::to_string(width) + "x" + std::to_string(height) +
                   " differs from the task's other regions (" + std::to_string(image.width) + "x" +
                   std::to_string(image.height) + ")");
    }
    image.width = width, image.height = height;
    const auto image_rotation = sizes.find("image_rotation");
    if (image_rotation != sizes.end() && image_rotation->is_number() && image_rotation->get<double>() != 0) {
      report_->Warn(file_, c.place.element, "image_rotation " + image_rotation->dump() +
                                                ": coordinates taken as given, on the stored (unrotated) image");
    }
    CocoAnnotation a;
    a.id = int64_t(dataset_.coco.annotations.size()) + 1;
    a.image_id = image.id;
    a.category_id = CategoryIdFor(&dataset_.coco, label);
    a.score = c.score;
    if (type == "rectanglelabels") {
      Rectangle(value, width, height, vp, &a);
    } else if (type == "polygonlabels") {
      if (!Polygon(value, width, height, vp, &a)) return;
    } else {
      Brush(value, width, height, vp, &a);
    }
    try {
      FillBoxAndArea(&a, width, height);
    } catch (const FormatError& e) {  // A coordinate too large to rasterize; the rasterizer knows no place.
      vp.Fail(e.what());
    }
    json region = json::object();
    if (!c.from_name.empty()) region["from_name"] = c.from_name;
    if (!c.to_name.empty()) region["to_name"] = c.to_name;
    if (!region.empty()) a.extra[kLabelStudioRegionKey] = region;
    dataset_.coco.annotations.push_back(std::move(a));
  }

  std::string Label(const json& value, const std::string& type, const JsonPlace& vp) {
    const json& labels = ArrayAt(value, type, vp);
    if (labels.empty() || !labels[0].is_string()) {
      report_->Warn(file_, vp.element, type + " has no label: skipped");
      return "";
    }
    if (labels.size() > 1) {
      report_->Warn(file_, vp.element, std::to_string(labels.size()) + " labels; only the first ('" +
                                           labels[0].get<std::string>() + "') is kept");
    }
    return labels[0].get<std::string>();
  }

  // x, y: the top-left corner before rotation; rotation: degrees clockwise about that corner.
  void Rectangle(const json& value, int width, int height, const JsonPlace& vp, CocoAnnotation* a) {
    const double x = NumberAt(value, "x", vp) * width / 100, y = NumberAt(value, "y", vp) * height / 100;
    const double w = NumberAt(value, "width", vp) * width / 100, h = NumberAt(value, "height", vp) * height / 100;
    const double rotation = value.contains("rotation") ? NumberAt(value, "rotation", vp) : 0.0;
    if (std::fmod(std::abs(rotation), 360.0) < 1e-9) {
      a->bbox = {x, y, w, h};
      return;
    }
    const double t = rotation * kPi / 180, cs = std::cos(t), sn = std::sin(t);
    std::vector<double> polygon;
    for (const auto& [dx, dy] : {std::pair{0.0, 0.0}, {w, 0.0}, {w, h}, {0.0, h}}) {
      polygon.push_back(x + dx * cs - dy * sn);
      polygon.push_back(y + dx * sn + dy * cs);
    }
    a->segmentation.polygons.push_back(std::move(polygon));
    report_->Warn(file_, vp.element, "rectangle rotated " + json(rotation).dump() +
                                         " degrees: kept as a 4-point polygon (COCO boxes cannot rotate)");
  }

  bool Polygon(const json& value, int width, int height, const JsonPlace& vp, CocoAnnotation* a) {
    const json& points = ArrayAt(value, "points", vp);
    std::vector<double> polygon;
    for (size_t i = 0; i < points.size(); ++i) {
      const JsonPlace pp = vp.At("points[" + std::to_string(i) + "]");
      if (!points[i].is_array() || points[i].size() != 2 || !points[i][0].is_number() || !points[i][1].is_number()) {
        pp.Fail("expected [x, y] in percent");
      }
      polygon.push_back(points[i][0].get<double>() * width / 100);
      polygon.push_back(points[i][1].get<double>() * height / 100);
    }
    if (polygon.size() < 6) {
      report_->Warn(file_, vp.element, "polygon of " + std::to_string(points.size()) + " point(s): skipped");
      return false;
    }
    a->segmentation.polygons.push_back(std::move(polygon));
    return true;
  }

  // The RLE decodes to the canvas's RGBA pixels; a pixel is in the mask if any channel is non-zero.
  void Brush(const json& value, int width, int height, const JsonPlace& vp, CocoAnnotation* a) {
    const std::string format = value.contains("format") ? StringAt(value, "format", vp) : "rle";
    if (format != "rle") vp.At("format").Fail("expected \"rle\" (Label Studio's brush encoding), got \"" + format + "\"");
    CheckImagePixels(width, height, file_.string(), vp.element, "brush mask of");
    const json& rle = ArrayAt(value, "rle", vp);
    std::vector<uint8_t> bytes(rle.size());
    for (size_t i = 0; i < rle.size(); ++i) {
      if (!rle[i].is_number_integer() || rle[i].get<int64_t>() < 0 || rle[i].get<int64_t>() > 255) {
        vp.At("rle[" + std::to_string(i) + "]").Fail("expected a byte value 0..255");
      }
      bytes[i] = uint8_t(rle[i].get<int>());
    }
    const uint64_t expected = uint64_t(width) * uint64_t(height) * 4;
    const std::vector<uint8_t> rgba = DecodeBrushRle(bytes, expected, file_.string() + ": " + vp.element + ".rle");
    if (rgba.size() != expected) {
      vp.At("rle").Fail("decodes to " + std::to_string(rgba.size()) + " values, expected " + std::to_string(expected) +
                        " (RGBA of original_width x original_height)");
    }
    std::vector<uint8_t> mask(size_t(width) * size_t(height));
    for (size_t p = 0; p < mask.size(); ++p) {
      mask[p] = (rgba[4 * p] | rgba[4 * p + 1] | rgba[4 * p + 2] | rgba[4 * p + 3]) != 0;
    }
    a->segmentation.rle = RleEncode(mask.data(), uint32_t(height), uint32_t(width));
  }

  fs::path file_;
  ConversionReport* report_;
  LabeledDataset dataset_;
  std::set<std::string> image_ids_;
};

}  // namespace

LabeledDataset ReadLabelStudio(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  const json root = LoadJsonFile(input);
  try {
    return LabelStudioReader(input, options.images_dir.empty() ? input.parent_path() : options.images_dir, report)
        .Read(root);
  } catch (const json::exception& e) {  // A field of an unexpected type the typed access did not cover.
    throw FormatError(input, "", std::string("unexpected JSON field type (") + e.what() + ")");
  }
}

}  // namespace segtune
