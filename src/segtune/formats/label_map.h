// TF Object Detection API label maps (label_map.pbtxt): StringIntLabelMap in protobuf text format.
//
// Accepts everything TF's label_map_util.load_labelmap accepts (text_format.Merge, then a binary
// fallback): single or double quotes, `item {`, `item: {`, `item <...>`, `#` comments, `,`/`;`
// separators, several items on a line, display_name and the other optional fields.
// Writes one canonical form: `item {\n  id: 1\n  name: "cat"\n  display_name: "Cat"\n}\n`.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "string_int_label_map.pb.h"

namespace segtune {

struct CocoDataset;

using LabelMap = object_detection::protos::StringIntLabelMap;

struct LabelMapProblems {
  std::vector<std::string> errors;    // Make the map unusable (TF's loader raises on these too).
  std::vector<std::string> warnings;  // Suspicious but usable (duplicate ids or names).
};

// Parses text (or binary) label map bytes. `source` names the file in errors. Throws FormatError
// with the line and column of the first syntax error. Does not validate (see ValidateLabelMap).
LabelMap ParseLabelMap(std::string_view bytes, const std::string& source);

// Errors: an item without id, id < 0, id 0 whose name/display_name is not "background".
// Warnings: an id or a name used by more than one item.
LabelMapProblems ValidateLabelMap(const LabelMap& map);

// Reads, parses and validates a label map file: throws FormatError listing every error; prints
// warnings with Warn(). Throws IoError if unreadable.
LabelMap LoadLabelMap(const std::filesystem::path& path);

// The canonical text form (items in the given order; only the fields that are set).
std::string LabelMapToText(const LabelMap& map);
// Writes LabelMapToText atomically.
void SaveLabelMap(const LabelMap& map, const std::filesystem::path& path);

// True if the file is label map text with at least one item: what `segtune labelmap --overwrite` may
// replace (core/output_guard.h). False for anything else, binary or unreadable (never throws).
bool LooksLikeLabelMapFile(const std::filesystem::path& path);

// One item per COCO category: id = category id, name = category name (in the file's order).
LabelMap LabelMapFromCoco(const CocoDataset& coco);

// Class names indexed by id, for num_classes classes (num_classes < 0: as many as the largest id
// in [0, 255] needs). display_name is preferred when non-empty; an id without an item is "" except
// 0, which is "background". Ids outside [0, num_classes) are skipped and, if `outside` is given,
// appended to it.
std::vector<std::string> LabelMapClassNames(const LabelMap& map, int num_classes,
                                            std::vector<int>* outside = nullptr);

// name -> id and display_name -> id (TF's decoder looks up class/text by both).
std::map<std::string, int> LabelMapNameToId(const LabelMap& map);

}  // namespace segtune
