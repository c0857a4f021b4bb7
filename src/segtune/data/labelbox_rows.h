// The Labelbox export flavours read into one neutral form (one LabelboxRow per labeled image), which
// labelbox.cpp turns into COCO. Internal to the Labelbox converter; see labelbox.h for the verb.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/formats/wkt.h"

namespace segtune {

struct LabelboxShape {
  enum class Kind { kPolygon, kBox, kMask, kPoint, kLine };
  Kind kind = Kind::kPolygon;
  std::string class_name;
  std::vector<WktPolygon> polygons;  // kPolygon: one or more parts (holes only from WKT).
  std::array<double, 4> box{};       // kBox: left, top, width, height.
  std::string mask_url;              // kMask: PNG URL.
  bool has_color = false;            // kMask from a composite mask: the instance is this color.
  std::array<int, 3> color_rgb{};
  bool legacy_xy = false;            // From a 2018 XY/WKT export (y origin possibly bottom-left).
  std::string where;                 // "row 12 object 3", for messages.
};

struct LabelboxRow {
  std::string image_id;  // Label "ID" (v1) or data_row.id (v2).
  // The data row itself (for model-assisted labeling imports): "DataRow ID" (v1), data_row.id and
  // data_row.global_key (v2); "" when the export does not say.
  std::string data_row_id;
  std::string global_key;
  std::string url;       // "Labeled Data" / data_row.row_data.
  std::string external_id;
  int width = 0, height = 0;  // 0 when the export does not say.
  bool skipped = false;       // "Skipped": true, or Label "Skip".
  std::vector<LabelboxShape> shapes;
  std::string where;          // "row 12" / "line 12".
};

// What was read, for the report.
struct LabelboxParseStats {
  std::string flavour;  // "v1 JSON", "2018 XY/WKT JSON", "export v2 NDJSON", ...
  std::map<std::string, int> ignored;  // Reason -> count (classifications, extra labels, ...).
};

// A legacy JSON array row (v1 objects or the 2018 class -> geometry map). `source` names the file.
LabelboxRow ParseLabelboxV1Row(const nlohmann::json& row, const std::string& where, LabelboxParseStats* stats);
// An export v2 row (data_row, media_attributes, projects.<id>.labels[]).
LabelboxRow ParseLabelboxNdjsonRow(const nlohmann::json& row, const std::string& where, LabelboxParseStats* stats);

// Helpers shared by both readers. Each throws FormatError naming `where` when the field is malformed.
std::vector<double> ReadXyList(const nlohmann::json& points, const std::string& where);  // [{x,y},...]
std::array<double, 4> ReadBox(const nlohmann::json& box, const std::string& where);    // {top,left,height,width}
std::string StringField(const nlohmann::json& object, const char* key);                  // "" if absent.

}  // namespace segtune
