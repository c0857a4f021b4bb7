// A small XML tree for the annotation formats that are XML (CVAT for images 1.1, Pascal VOC): the
// whole file is parsed into elements with attributes and text, then read by name.
//
// The elements and every name, value and text are views into one arena the XmlDocument owns, instead
// of ~30,000 elements and ~250,000 strings allocated and freed one by one for a 5,000-image CVAT task:
// its conversion to COCO peaked at 61-62 MB instead of 67-68 MB, and took 3% less time (14 alternating
// pairs). Views are valid while the document lives.
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

// A run of T laid out in the document's arena.
template <typename T>
class XmlSpan {
 public:
  XmlSpan() = default;
  XmlSpan(const T* data, size_t size) : data_(data), size_(size) {}
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  const T* data_ = nullptr;
  size_t size_ = 0;
};

struct XmlElement {
  std::string_view name;
  XmlSpan<std::pair<std::string_view, std::string_view>> attributes;  // In document order.
  // Character data directly inside (children's text not included), untrimmed, except that white space
  // after the first child element (indentation between children) is not kept.
  std::string_view text;
  XmlSpan<const XmlElement*> children;
  int line = 0;  // 1-based line of the start tag, for error messages.

  // The attribute's value, or nullptr if absent.
  const std::string_view* Attribute(std::string_view key) const;
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

class XmlArena;

// A parsed file: its root element, and the arena every element and string lives in.
class XmlDocument {
 public:
  XmlDocument(std::unique_ptr<XmlArena> arena, const XmlElement* root);
  XmlDocument(XmlDocument&&) noexcept;
  XmlDocument& operator=(XmlDocument&&) noexcept;
  ~XmlDocument();

  const XmlElement& root() const { return *root_; }
  const XmlElement* operator->() const { return root_; }
  const XmlElement& operator*() const { return *root_; }

 private:
  std::unique_ptr<XmlArena> arena_;
  const XmlElement* root_;
};

// Parses `text`; `source` names it in errors. Throws FormatError("<source>: line N: <expat's message>").
XmlDocument ParseXml(std::string_view text, const std::string& source, const XmlLimits& limits = {});
// Reads and parses a file. Throws IoError if unreadable, FormatError if malformed.
XmlDocument LoadXml(const std::filesystem::path& path, const XmlLimits& limits = {});

// Escapes &, <, >, " and ' for use in text and attribute values; control characters other than tab,
// newline and carriage return (not allowed in XML 1.0) become U+FFFD.
std::string XmlEscape(std::string_view text);

}  // namespace segtune
