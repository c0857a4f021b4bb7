// Labelbox model-assisted labeling (MAL) import NDJSON: predictions back into a Labelbox project as
// pre-labels (docs/formats.md §18). Write-only. One line per object:
//   {"uuid", "dataRow": {"id"} or {"globalKey"}, "name": <ontology feature name>, one of
//    "bbox": {top, left, height, width} | "polygon": [{x, y}, ...] | "mask": {"imBytes", "colorRGB"},
//    "classifications": [], "confidence" (when the annotation has a score)}
// The data row comes from the image's extra (labelbox_data_row_id, else labelbox_global_key), as
// `segtune labelbox2coco` records it; an image without one is an error naming it (pass --reference
// with the labelbox2coco output). The geometry is the class's ontology tool as labelbox2coco recorded
// it (category extra labelbox_tool: bbox, polygon, mask), else the annotation's own: an RLE is a mask,
// polygons are polygons, a bare box is a bbox. Masks become polygons by TracePolygons (one object per
// region, holes dropped with a warning) and anything becomes a mask by rasterizing it at the image
// size. uuid: NameBasedUuid("segtune-mal/<data row>/<n>"), n counting the data row's lines, so a rerun
// on the same predictions writes the same file.
#include <algorithm>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/base64.h"
#include "segtune/core/error.h"
#include "segtune/core/name_uuid.h"
#include "segtune/core/output_guard.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/mask_polygons.h"
#include "segtune/data/opencv_codecs.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A previous output of this writer: a JSON object line naming "uuid" and "dataRow" early on.
bool IsMalFile(const fs::path& path) {
  if (!FileStartsWith(path, '{')) return false;
  const std::string head = FileHead(path);
  return head.find("\"uuid\"") != std::string::npos && head.find("\"dataRow\"") != std::string::npos;
}

std::string ImageName(const CocoImage& image) {
  return "image '" + image.file_name + "' (id " + image.id.text + ")";
}

Json DataRowOf(const CocoImage& image, const fs::path& output) {
  const auto id = image.extra.find("labelbox_data_row_id");
  if (id != image.extra.end() && id->is_string()) return Json{{"id", id->get<std::string>()}};
  const auto key = image.extra.find("labelbox_global_key");
  if (key != image.extra.end() && key->is_string()) return Json{{"globalKey", key->get<std::string>()}};
  throw UsageError("convert: " + output.string() + ": " + ImageName(image) +
                   " has no Labelbox data row id; predictions must be joined to the COCO file `segtune "
                   "labelbox2coco` wrote (pass it as --reference), which keeps each image's data row");
}

// "bbox", "polygon" or "mask": the class's tool, else what the annotation holds.
std::string ToolOf(const CocoCategory* category, const CocoAnnotation& a) {
  if (category != nullptr) {
    const auto tool = category->extra.find("labelbox_tool");
    if (tool != category->extra.end() && tool->is_string()) {
      const std::string t = tool->get<std::string>();
      if (t == "bbox" || t == "polygon" || t == "mask") return t;
    }
  }
  return a.segmentation.rle ? "mask" : a.segmentation.polygons.empty() ? "bbox" : "polygon";
}

Json Points(const std::vector<double>& xy) {
  Json points = Json::array();
  for (size_t i = 0; i + 1 < xy.size(); i += 2) points.push_back({{"x", xy[i]}, {"y", xy[i + 1]}});
  return points;
}

// The MAL mask: an RGB PNG of the image size, the object white ("colorRGB" picks it out).
Json MaskField(const Rle& rle) {
  cv::Mat gray(static_cast<int>(rle.h), static_cast<int>(rle.w), CV_8UC1);
  RleDecode(rle, gray.data);
  gray *= 255;
  cv::Mat rgb;
  cv::merge(std::vector<cv::Mat>{gray, gray, gray}, rgb);
  std::vector<uint8_t> png;
  if (!EncodeWithOpenCv(".png", rgb, &png)) throw Error("MAL mask: the PNG encoder failed");
  return {{"imBytes", Base64Encode(std::string_view(reinterpret_cast<const char*>(png.data()), png.size()))},
          {"colorRGB", {255, 255, 255}}};
}

class MalWriter {
 public:
  MalWriter(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
            ConversionReport* report)
      : dataset_(dataset), output_(output), options_(options), report_(report) {
    for (const auto& image : dataset.coco.images) images_[image.id.text] = &image;
    for (const auto& c : dataset.coco.categories) categories_[c.id] = &c;
  }

  std::string Write() {
    for (size_t i = 0; i < dataset_.coco.annotations.size(); ++i) AddAnnotation(dataset_.coco.annotations[i], i);
    return text_;
  }

 private:
  template <typename Map, typename Key>
  static auto Find(const Map& map, const Key& key) -> decltype(map.begin()->second) {
    const auto it = map.find(key);
    return it == map.end() ? nullptr : it->second;
  }

  void AddAnnotation(const CocoAnnotation& a, size_t index) {
    const std::string element = "annotations[" + std::to_string(index) + "]";
    const CocoImage* image = Find(images_, a.image_id.text);
    const CocoCategory* category = Find(categories_, a.category_id);
    if (image == nullptr || category == nullptr) {
      report_->Warn(output_, element, image == nullptr ? "image id " + a.image_id.text + " is not in the dataset; skipped"
                                                       : "category id " + std::to_string(a.category_id) +
                                                             " has no name; skipped");
      return;
    }
    const Json data_row = DataRowOf(*image, output_);
    const std::string row_key = data_row.begin().key() + "=" + data_row.begin().value().get<std::string>();
    const std::string where = ImageName(*image) + ": " + element;
    for (Json& geometry : Geometries(a, ToolOf(category, a), *image, where)) {
      Json line;
      // Named by the object's content as well as its place: Labelbox refuses a uuid already used in
      // the project, so the next model's predictions for the same data row must get new ones.
      const std::string content = category->name + "/" + geometry.dump() + "/" + (a.score ? Json(*a.score).dump() : "");
      line["uuid"] = NameBasedUuid("segtune-mal/" + row_key + "/" + std::to_string(lines_of_row_[row_key]++) + "/" + content);
      line["dataRow"] = data_row;
      line["name"] = category->name;
      line.update(geometry);
      line["classifications"] = Json::array();
      if (a.score) line["confidence"] = std::clamp(*a.score, 0.0, 1.0);
      text_ += line.dump() + "\n";
    }
  }

  // The geometry fields of the object(s) one annotation becomes.
  std::vector<Json> Geometries(const CocoAnnotation& a, const std::string& tool, const CocoImage& image,
                               const std::string& where) {
    if (tool == "bbox") {
      const auto box = a.bbox[2] > 0 || !a.segmentation.rle ? a.bbox : RleToBbox(*a.segmentation.rle);
      return {Json{{"bbox", {{"top", box[1]}, {"left", box[0]}, {"height", box[3]}, {"width", box[2]}}}}};
    }
    if (tool == "mask") {
      if (const auto rle = MaskOf(a, image)) return {Json{{"mask", MaskField(*rle)}}};
      report_->Warn(output_, where, "the image size is unknown, so the mask tool's mask cannot be drawn; written as a polygon");
    }
    return Polygons(a, where);
  }

  // The annotation as a mask at the image size, if it has one or its size is known.
  static std::optional<Rle> MaskOf(const CocoAnnotation& a, const CocoImage& image) {
    if (a.segmentation.rle) return a.segmentation.rle;
    if (image.width <= 0 || image.height <= 0) return std::nullopt;
    const uint32_t h = static_cast<uint32_t>(image.height), w = static_cast<uint32_t>(image.width);
    return a.segmentation.polygons.empty() ? RleFromBbox(a.bbox, h, w) : RleFromPolygons(a.segmentation.polygons, h, w);
  }

  std::vector<Json> Polygons(const CocoAnnotation& a, const std::string& where) {
    std::vector<Json> out;
    if (!a.segmentation.polygons.empty()) {
      for (const auto& part : a.segmentation.polygons) {
        if (part.size() >= 6) out.push_back(Json{{"polygon", Points(part)}});
      }
      return out;
    }
    if (!a.segmentation.rle) {
      const auto& b = a.bbox;
      return {Json{{"polygon", Points({b[0], b[1], b[0] + b[2], b[1], b[0] + b[2], b[1] + b[3], b[0], b[1] + b[3]})}}};
    }
    const TraceResult traced = TracePolygons(*a.segmentation.rle, {options_.polygon_tolerance, options_.min_area});
    size_t holes = 0;
    for (const auto& region : traced.regions) {
      out.push_back(Json{{"polygon", Points(region.outer)}});
      holes += region.holes.size();
    }
    if (holes > 0) report_->Warn(output_, where, std::to_string(holes) + " hole(s) dropped (a Labelbox polygon has none)");
    if (traced.dropped_small > 0) {
      report_->Warn(output_, where, std::to_string(traced.dropped_small) + " region(s) under --min-area dropped");
    }
    if (out.size() > 1) report_->Warn(output_, where, "mask of " + std::to_string(out.size()) + " regions written as " + std::to_string(out.size()) + " polygons");
    if (out.empty()) report_->Warn(output_, where, "mask has no region of --min-area pixels; nothing written");
    return out;
  }

  const LabeledDataset& dataset_;
  const fs::path& output_;
  const WriteOptions& options_;
  ConversionReport* report_;
  std::map<std::string, const CocoImage*> images_;
  std::map<int64_t, const CocoCategory*> categories_;
  std::map<std::string, int> lines_of_row_;
  std::string text_;
};

void WriteLabelboxMal(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
                      ConversionReport* report) {
  CheckOutputFile(output, options.overwrite, {"convert", "-o", "Labelbox MAL NDJSON file", {}}, IsMalFile);
  const std::string text = MalWriter(dataset, output, options, report).Write();
  if (text.empty()) report->Warn(output, "", "no predictions to import; the file is empty");
  WriteFileAtomic(output, text);
  report->written.push_back(output);
}

}  // namespace

AnnotationFormat LabelboxMalAnnotationFormat() {
  return {"labelbox-mal", nullptr, nullptr, WriteLabelboxMal};
}

}  // namespace segtune
