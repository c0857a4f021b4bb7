// A small XML tree for the annotation formats that are XML (CVAT for images 1.1, Pascal VOC): the
// whole file is parsed into elements with attributes and text, then read by name.
//
// Hostile input: no DTD is processed beyond what expat must (no external entities are loaded, no
// parameter entities), internal entity expansion is bounded by expat's amplification limit, and the
// tree's depth and element count are bounded (XmlLimits), so a file cannot make the parser use more
// than a small multiple of its own size. Errors name the file and line.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segtune {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;  // In document order.
  // Character data directly inside (children's text not included), untrimmed, except that white space
  // after the first child element (indentation between children) is not kept.
  std::string text;
  std::vector<std::unique_ptr<XmlElement>> children;
  int line = 0;  // 1-based line of the start tag, for error messages.

  // The attribute's value, or nullptr if absent.
  const std::string* Attribute(std::string_view key) const;
  // The first child called `child_name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  // Every child called `child_name`, in order.
  std::vector<const XmlElement*> Children(std::string_view child_name) const;
  // The trimmed text of the first child called `child_name`; "" if there is none.
  std::string ChildText(std::string_view child_name) const;
};

struct XmlLimits {
  int max_depth = 64;
  size_t max_elements = 50'000'000;
};

// Parses `text`; `source` names it in errors. Throws FormatError("<source>: line N: <expat's message>").
std::unique_ptr<XmlElement> ParseXml(std::string_view text, const std::string& source, const XmlLimits& limits = {});
// Reads and parses a file. Throws IoError if unreadable, FormatError if malformed.
std::unique_ptr<XmlElement> LoadXml(const std::filesystem::path& path, const XmlLimits& limits = {});

// Escapes &, <, >, " and ' for use in text and attribute values; control characters other than tab,
// newline and carriage return (not allowed in XML 1.0) become U+FFFD.
std::string XmlEscape(std::string_view text);

}  // namespace segtune
