// The YAML that YOLO dataset files (Ultralytics `data.yaml`, Roboflow's export of it) are written
// in, and nothing more: a map of top-level keys whose values are scalars, one-line flow lists
// `[a, 'b c']` and maps `{0: a}`, or one level of block list (`- a`) or block map (`0: a`) lines.
//
// Why not a YAML library: none is a dependency, and these files are small and regular. Strict, so
// that a construct outside the subset is never silently misread: a malformed line throws; a value
// using anything beyond the subset (block scalars `|`, nesting, anchors, tags, multi-line flow) is
// kept as kUnsupported with its line, and the caller throws if it needs that key and may ignore it
// otherwise (Ultralytics' `download:` scripts, Roboflow's `roboflow:` map). docs/formats.md §17.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segtune {

struct YamlScalar {
  std::string text;     // Unquoted and unescaped.
  bool quoted = false;  // Written in quotes ('a' or "a"): never null, never a number.
  int line = 0;         // 1-based.
  bool IsNull() const { return !quoted && (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL"); }
};

struct YamlValue {
  enum Kind { kScalar, kList, kMap, kUnsupported };
  Kind kind = kScalar;
  int line = 0;                                              // Line of the key.
  YamlScalar scalar;                                         // kScalar.
  std::vector<YamlScalar> items;                             // kList.
  std::vector<std::pair<YamlScalar, YamlScalar>> entries;    // kMap, in file order.
  std::string unsupported;                                   // kUnsupported: what it uses, e.g. "a block scalar (|)".
  int unsupported_line = 0;                                  // kUnsupported: where.
};

struct YamlDocument {
  std::filesystem::path file;  // For error messages.
  std::vector<std::pair<std::string, YamlValue>> keys;  // Top level, in file order, no duplicates.

  // The value of `key`, or nullptr.
  const YamlValue* Find(std::string_view key) const;
};

// Parses `text`; `file` names it in errors. Throws FormatError "<file>: line N: <what was
// expected>" for malformed lines (unterminated quotes, a top-level line that is not `key: value`,
// tab indentation, duplicate keys, document markers other than a leading `---`).
YamlDocument ParseDataYaml(std::string_view text, const std::filesystem::path& file);

}  // namespace segtune
