// Labelbox's legacy JSON array exports: v1 rows (Label.objects[]) and the 2018 formats
// (Label = {class: geometry}). Field names: docs/formats.md §9.
#include <string>

#include "segtune/core/error.h"
#include "segtune/data/labelbox_rows.h"

namespace segtune {

std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::vector<double> ReadXyList(const nlohmann::json& points, const std::string& where) {
  if (!points.is_array()) throw FormatError(where + ": expected a list of {\"x\", \"y\"} points");
  std::vector<double> xy;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!p.is_object() || !p.contains("x") || !p.contains("y") || !p["x"].is_number() || !p["y"].is_number())
      throw FormatError(where + ": point " + std::to_string(i) + ": expected {\"x\": number, \"y\": number}, found " +
                        p.dump());
    xy.push_back(p["x"].get<double>());
    xy.push_back(p["y"].get<double>());
  }
  return xy;
}

std::array<double, 4> ReadBox(const nlohmann::json& box, const std::string& where) {
  std::array<double, 4> out{};
  const char* keys[4] = {"left", "top", "width", "height"};
  for (int i = 0; i < 4; ++i) {
    if (!box.is_object() || !box.contains(keys[i]) || !box[keys[i]].is_number())
      throw FormatError(where + ": expected a box {top, left, height, width}, found " + box.dump());
    out[i] = box[keys[i]].get<double>();
  }
  return out;
}

namespace {

WktPolygon Exterior(std::vector<double> xy) {
  WktPolygon p;
  p.exterior = std::move(xy);
  return p;
}

// A v1 object: {title, value, bbox | polygon | point | line | instanceURI, ...}.
void ReadV1Object(const nlohmann::json& object, const std::string& where, LabelboxRow* row, LabelboxParseStats* stats) {
  LabelboxShape shape;
  shape.where = where;
  shape.class_name = StringField(object, "title");
  if (shape.class_name.empty()) shape.class_name = StringField(object, "value");
  if (shape.class_name.empty()) throw FormatError(where + ": object has neither \"title\" nor \"value\"");
  if (object.contains("polygon")) {
    shape.kind = LabelboxShape::Kind::kPolygon;
    shape.polygons.push_back(Exterior(ReadXyList(object["polygon"], where + ": polygon")));
  } else if (object.contains("bbox")) {
    shape.kind = LabelboxShape::Kind::kBox;
    shape.box = ReadBox(object["bbox"], where + ": bbox");
  } else if (object.contains("point")) {
    shape.kind = LabelboxShape::Kind::kPoint;
  } else if (object.contains("line")) {
    shape.kind = LabelboxShape::Kind::kLine;
  } else if (object.contains("instanceURI") && object["instanceURI"].is_string()) {
    shape.kind = LabelboxShape::Kind::kMask;
    shape.mask_url = object["instanceURI"].get<std::string>();
  } else {
    ++stats->ignored["object without a known geometry (" + shape.class_name + ")"];
    return;
  }
  row->shapes.push_back(std::move(shape));
}

// One class's data in the 2018 formats: a WKT string, a list of point lists (XY V2), or a list of
// {"geometry": WKT string | point list} (V3).
void Read2018Class(const std::string& cls, const nlohmann::json& data, const std::string& where, LabelboxRow* row) {
  auto add_polygons = [&](std::vector<WktPolygon> polygons, const std::string& at) {
    LabelboxShape shape;
    shape.kind = LabelboxShape::Kind::kPolygon;
    shape.class_name = cls;
    shape.polygons = std::move(polygons);
    shape.legacy_xy = true;
    shape.where = at;
    row->shapes.push_back(std::move(shape));
  };
  if (data.is_string()) {
    add_polygons(ParseWkt(data.get<std::string>(), where), where);
    return;
  }
  if (!data.is_array()) throw FormatError(where + ": expected a WKT string or a list of geometries, found " + data.dump());
  if (!data.empty() && data[0].is_object() && data[0].contains("x")) {  // One bare point list.
    add_polygons({Exterior(ReadXyList(data, where))}, where);
    return;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const auto& item = data[i];
    if (item.is_array()) {
      add_polygons({Exterior(ReadXyList(item, at))}, at);
    } else if (item.is_object() && item.contains("geometry")) {
      const auto& g = item["geometry"];
      if (g.is_string()) add_polygons(ParseWkt(g.get<std::string>(), at + ": geometry"), at);
      else add_polygons({Exterior(ReadXyList(g, at + ": geometry"))}, at);
    } else {
      throw FormatError(at + ": expected a point list or {\"geometry\": ...}, found " + item.dump());
    }
  }
}

}  // namespace

LabelboxRow ParseLabelboxV1Row(const nlohmann::json& row, const std::string& where, LabelboxParseStats* stats) {
  if (!row.is_object()) throw FormatError(where + ": expected a JSON object (a Labelbox export row)");
  LabelboxRow out;
  out.where = where;
  out.image_id = StringField(row, "ID");
  out.data_row_id = StringField(row, "DataRow ID");
  if (out.image_id.empty()) out.image_id = out.data_row_id;
  out.url = StringField(row, "Labeled Data");
  out.external_id = StringField(row, "External ID");
  const bool skipped_flag = row.contains("Skipped") && row["Skipped"].is_boolean() && row["Skipped"].get<bool>();
  auto label = row.find("Label");
  if (skipped_flag || label == row.end() || !label->is_object()) {  // "Skip", null, missing.
    out.skipped = true;
    return out;
  }
  if (label->contains("objects")) {
    const auto& objects = (*label)["objects"];
    if (!objects.is_array()) throw FormatError(where + ": Label.objects: expected a list");
    for (size_t i = 0; i < objects.size(); ++i)
      ReadV1Object(objects[i], where + ": Label.objects[" + std::to_string(i) + "]", &out, stats);
    if (label->contains("classifications") && (*label)["classifications"].is_array() &&
        !(*label)["classifications"].empty())
      stats->ignored["image classification"] += int((*label)["classifications"].size());
    return out;
  }
  for (const auto& [cls, data] : label->items()) {
    if (cls == "classifications" || cls == "relationships") continue;
    Read2018Class(cls, data, where + ": Label." + cls, &out);
  }
  return out;
}

}  // namespace segtune
