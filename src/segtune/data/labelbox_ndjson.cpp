// Labelbox export v2 rows (NDJSON, one data row per line). Field names: docs/formats.md §9.
#include <climits>
#include <cmath>
#include <string>

#include "segtune/core/error.h"
#include "segtune/data/labelbox_rows.h"

namespace segtune {
namespace {

// A JSON number that must be an integer in [lo, hi] (lo <= 0): get<int>() would wrap 2^40 to 0 and
// convert 1e20 undefinedly. Throws FormatError naming `where`.
int IntInRange(const nlohmann::json& v, const std::string& where, int lo, int hi) {
  bool ok = false;
  if (v.is_number_unsigned()) {
    ok = v.get<uint64_t>() <= uint64_t(hi);
  } else if (v.is_number_integer()) {
    ok = v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    ok = d == std::floor(d) && d >= lo && d <= hi;  // False for NaN.
  }
  if (!ok) {
    throw FormatError(where + ": expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                      ", found " + v.dump());
  }
  return v.is_number_float() ? static_cast<int>(v.get<double>()) : static_cast<int>(v.get<int64_t>());
}

// An integer field (see IntInRange); 0 when absent or not a number.
int IntField(const nlohmann::json& object, const char* key, const std::string& where, int lo, int hi) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return 0;
  return IntInRange(object[key], where + "." + key, lo, hi);
}

void ReadObject(const nlohmann::json& object, const std::string& where, LabelboxRow* row, LabelboxParseStats* stats) {
  LabelboxShape shape;
  shape.where = where;
  shape.class_name = StringField(object, "name");
  if (shape.class_name.empty()) shape.class_name = StringField(object, "value");
  if (shape.class_name.empty()) throw FormatError(where + ": object has neither \"name\" nor \"value\"");
  const std::string kind = StringField(object, "annotation_kind");
  if (kind == "ImagePolygon" || (kind.empty() && object.contains("polygon"))) {
    WktPolygon p;
    p.exterior = ReadXyList(object.value("polygon", nlohmann::json()), where + ": polygon");
    shape.polygons.push_back(std::move(p));
  } else if (kind == "ImageBoundingBox" || (kind.empty() && object.contains("bounding_box"))) {
    shape.kind = LabelboxShape::Kind::kBox;
    shape.box = ReadBox(object.value("bounding_box", nlohmann::json()), where + ": bounding_box");
  } else if (kind == "ImagePoint") {
    shape.kind = LabelboxShape::Kind::kPoint;
  } else if (kind == "ImagePolyline") {
    shape.kind = LabelboxShape::Kind::kLine;
  } else if (kind == "ImageSegmentationMask" || (kind.empty() && (object.contains("mask") || object.contains("composite_mask")))) {
    shape.kind = LabelboxShape::Kind::kMask;
    if (object.contains("composite_mask") && object["composite_mask"].is_object()) {
      const auto& cm = object["composite_mask"];
      shape.mask_url = StringField(cm, "url");
      const auto color = cm.value("color_rgb", nlohmann::json());
      if (!color.is_array() || color.size() != 3 || !color[0].is_number())
        throw FormatError(where + ": composite_mask.color_rgb: expected [r, g, b], found " + color.dump());
      shape.has_color = true;
      for (int c = 0; c < 3; ++c) {
        shape.color_rgb[c] = IntInRange(color[c], where + ": composite_mask.color_rgb[" + std::to_string(c) + "]", 0, 255);
      }
    } else {
      shape.mask_url = StringField(object.value("mask", nlohmann::json::object()), "url");
    }
    if (shape.mask_url.empty()) throw FormatError(where + ": segmentation mask without mask.url or composite_mask.url");
  } else {
    ++stats->ignored["annotation_kind \"" + kind + "\" (not an image region)"];
    return;
  }
  row->shapes.push_back(std::move(shape));
}

bool IsTrue(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key] == true;
}

bool LabelSkipped(const nlohmann::json& label) {
  return IsTrue(label, "skipped") || IsTrue(label.value("performance_details", nlohmann::json()), "skipped") ||
         IsTrue(label.value("label_details", nlohmann::json()), "skipped");
}

}  // namespace

LabelboxRow ParseLabelboxNdjsonRow(const nlohmann::json& row, const std::string& where, LabelboxParseStats* stats) {
  if (!row.is_object() || !row.contains("data_row") || !row["data_row"].is_object())
    throw FormatError(where + ": expected an export v2 row with a \"data_row\" object");
  LabelboxRow out;
  out.where = where;
  const auto& data_row = row["data_row"];
  out.data_row_id = StringField(data_row, "id");
  out.global_key = StringField(data_row, "global_key");
  out.image_id = out.data_row_id.empty() ? out.global_key : out.data_row_id;
  out.url = StringField(data_row, "row_data");
  out.external_id = StringField(data_row, "external_id");
  if (row.contains("media_attributes")) {
    // As COCO's width/height (formats/coco.h): 0 when unknown, at most what an int holds.
    out.width = IntField(row["media_attributes"], "width", where + ": media_attributes", 0, INT32_MAX);
    out.height = IntField(row["media_attributes"], "height", where + ": media_attributes", 0, INT32_MAX);
  }
  // Every label of every project; a data row labeled more than once keeps its first label.
  std::vector<std::pair<std::string, const nlohmann::json*>> labels;
  if (row.contains("projects") && row["projects"].is_object()) {
    for (const auto& [project_id, project] : row["projects"].items()) {
      if (!project.is_object() || !project.contains("labels") || !project["labels"].is_array()) continue;
      for (size_t i = 0; i < project["labels"].size(); ++i)
        labels.push_back({"projects." + project_id + ".labels[" + std::to_string(i) + "]", &project["labels"][i]});
    }
  }
  if (labels.empty() || LabelSkipped(*labels[0].second)) {
    out.skipped = true;
    return out;
  }
  if (labels.size() > 1) stats->ignored["extra label of an already labeled data row (first label kept)"] += int(labels.size() - 1);
  const auto& [label_where, label] = labels[0];
  const auto annotations = label->value("annotations", nlohmann::json::object());
  const auto objects = annotations.value("objects", nlohmann::json::array());
  if (!objects.is_array()) throw FormatError(where + ": " + label_where + ".annotations.objects: expected a list");
  for (size_t i = 0; i < objects.size(); ++i)
    ReadObject(objects[i], where + ": " + label_where + ".annotations.objects[" + std::to_string(i) + "]", &out, stats);
  const auto classifications = annotations.value("classifications", nlohmann::json::array());
  if (classifications.is_array() && !classifications.empty())
    stats->ignored["image classification"] += int(classifications.size());
  return out;
}

}  // namespace segtune
