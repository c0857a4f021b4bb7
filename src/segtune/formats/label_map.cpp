#include "segtune/formats/label_map.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <climits>
#include <set>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/formats/coco.h"
#include "segtune/formats/nesting_limit.h"

namespace segtune {
namespace {

// Keeps the first syntax error with its position (TextFormat reports 0-based lines and columns).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) first_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int line, int column, const std::string& message) override {
    warnings_.push_back("line " + std::to_string(line + 1) + ": " + message);
  }
  const std::string& first() const { return first_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::string first_;
  std::vector<std::string> warnings_;
};

std::string Describe(const object_detection::protos::StringIntLabelMapItem& item, int index) {
  std::string s = "item " + std::to_string(index);
  if (item.has_name()) s += " (name \"" + item.name() + "\")";
  return s;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

LabelMap ParseLabelMap(std::string_view bytes, const std::string& source) {
  LabelMap map;
  LabelMap binary;  // TF's loader falls back to the binary encoding.
  try {
    CheckTextFormatNesting(bytes, source);  // Protobuf's unknown-field skipping has no recursion limit.
  } catch (const FormatError&) {
    if (!bytes.empty() && binary.ParseFromArray(bytes.data(), int(bytes.size())) && binary.item_size() > 0) return binary;
    throw;
  }
  FirstError errors;
  google::protobuf::TextFormat::Parser parser;
  parser.SetRecursionLimit(kMaxTextFormatNesting);
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(std::string(bytes), &map)) {
    for (const auto& w : errors.warnings()) Warn(source + ": " + w);
    return map;
  }
  if (!bytes.empty() && binary.ParseFromArray(bytes.data(), int(bytes.size())) && binary.item_size() > 0) return binary;
  throw FormatError(source + ": " + errors.first() + " (expected a StringIntLabelMap: item { id: 1 name: \"cat\" })");
}

LabelMapProblems ValidateLabelMap(const LabelMap& map) {
  LabelMapProblems problems;
  std::map<int, int> first_with_id;
  std::map<std::string, int> first_with_name;
  for (int i = 0; i < map.item_size(); ++i) {
    const auto& item = map.item(i);
    if (!item.has_id()) {
      problems.errors.push_back(Describe(item, i) + ": missing id");
      continue;
    }
    if (item.id() < 0) problems.errors.push_back(Describe(item, i) + ": id " + std::to_string(item.id()) + " is negative");
    if (item.id() == 0 && item.name() != "background" && item.display_name() != "background") {
      problems.errors.push_back(Describe(item, i) + ": id 0 is reserved for \"background\"");
    }
    const auto [id_at, new_id] = first_with_id.emplace(item.id(), i);
    if (!new_id) {
      problems.warnings.push_back(Describe(item, i) + ": id " + std::to_string(item.id()) + " also used by item " +
                                  std::to_string(id_at->second));
    }
    if (item.has_name()) {
      const auto [name_at, new_name] = first_with_name.emplace(item.name(), i);
      if (!new_name) {
        problems.warnings.push_back(Describe(item, i) + ": name also used by item " + std::to_string(name_at->second));
      }
    }
  }
  return problems;
}

LabelMap LoadLabelMap(const std::filesystem::path& path) {
  const LabelMap map = ParseLabelMap(ReadFile(path), path.string());
  const LabelMapProblems problems = ValidateLabelMap(map);
  for (const auto& w : problems.warnings) Warn(path.string() + ": " + w);
  if (!problems.errors.empty()) {
    std::string message = "invalid label map";
    for (const auto& e : problems.errors) message += "\n  " + e;
    throw FormatError(path, "", message);
  }
  return map;
}

bool LooksLikeLabelMapFile(const std::filesystem::path& path) {
  // Label maps are small text; a large file or a NUL byte is something else (ParseLabelMap would try
  // the binary form on it, which accepts many byte strings).
  const std::optional<std::string> bytes = ReadSmallFile(path, 16 << 20);
  if (!bytes) return false;
  try {
    return bytes->find('\0') == std::string::npos && ParseLabelMap(*bytes, path.string()).item_size() > 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::string LabelMapToText(const LabelMap& map) {
  std::ostringstream out;
  for (const auto& item : map.item()) {
    out << "item {\n";
    if (item.has_id()) out << "  id: " << item.id() << "\n";
    if (item.has_name()) out << "  name: " << Quote(item.name()) << "\n";
    if (item.has_display_name()) out << "  display_name: " << Quote(item.display_name()) << "\n";
    // Rarely used fields: protobuf's own printer, indented, keeps them exact.
    object_detection::protos::StringIntLabelMapItem rest = item;
    rest.clear_id();
    rest.clear_name();
    rest.clear_display_name();
    std::string extra;
    google::protobuf::TextFormat::PrintToString(rest, &extra);
    std::istringstream lines(extra);
    for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
    out << "}\n";
  }
  return out.str();
}

void SaveLabelMap(const LabelMap& map, const std::filesystem::path& path) {
  WriteFileAtomic(path, LabelMapToText(map));
}

LabelMap LabelMapFromCoco(const CocoDataset& coco) {
  LabelMap map;
  for (const auto& category : coco.categories) {
    if (category.id < INT32_MIN || category.id > INT32_MAX) {  // Never written as a wrapped int32.
      throw FormatError("category " + std::to_string(category.id) + " (" + category.name +
                        "): a label map id is a 32-bit integer (string_int_label_map.proto)");
    }
    auto* item = map.add_item();
    item->set_id(static_cast<int32_t>(category.id));
    item->set_name(category.name);
  }
  return map;
}

std::map<std::string, int> LabelMapNameToId(const LabelMap& map) {
  std::map<std::string, int> out;
  for (const auto& item : map.item()) {
    if (item.has_name()) out.emplace(item.name(), item.id());
    if (item.has_display_name()) out.emplace(item.display_name(), item.id());
  }
  return out;
}

std::vector<std::string> LabelMapClassNames(const LabelMap& map, int num_classes, std::vector<int>* outside) {
  if (num_classes < 0) {
    num_classes = 0;
    for (const auto& item : map.item()) {
      if (item.id() >= 0 && item.id() <= 255) num_classes = std::max(num_classes, item.id() + 1);
    }
  }
  std::vector<std::string> names(num_classes);
  for (const auto& item : map.item()) {
    if (item.id() < 0 || item.id() >= num_classes) {
      if (outside != nullptr) outside->push_back(item.id());
      continue;
    }
    names[item.id()] = !item.display_name().empty() ? item.display_name() : item.name();
  }
  if (!names.empty() && names[0].empty()) names[0] = "background";
  return names;
}

}  // namespace segtune
