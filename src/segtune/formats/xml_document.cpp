#include "segtune/formats/xml_document.h"

#include <expat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {

// Bump allocation in growing blocks, freed all at once with the document. Holds only trivially
// destructible objects (elements, attribute pairs, pointers, characters): nothing is ever destroyed.
class XmlArena {
 public:
  void* Allocate(size_t bytes, size_t align) {
    size_t pad = (align - reinterpret_cast<uintptr_t>(top_) % align) % align;
    if (top_ == nullptr || pad + bytes > left_) {
      // Blocks double (1 MiB to 32 MiB): fewer, larger mappings, which the kernel can back with huge
      // pages; 1 MiB blocks faulted in page by page made the arena slower than malloc.
      const size_t size = std::max(std::min(kFirstBlock << blocks_.size(), kLargestBlock), bytes + align);
      blocks_.emplace_back(new char[size]);  // Uninitialised: every byte is written before it is read.
      top_ = blocks_.back().get();
      left_ = size;
      pad = (align - reinterpret_cast<uintptr_t>(top_) % align) % align;
    }
    char* at = top_ + pad;
    top_ = at + bytes;
    left_ -= pad + bytes;
    return at;
  }

  std::string_view Copy(std::string_view text) {
    if (text.empty()) return {};
    char* at = static_cast<char*>(Allocate(text.size(), 1));
    std::memcpy(at, text.data(), text.size());
    return {at, text.size()};
  }

 private:
  static constexpr size_t kFirstBlock = size_t(1) << 20;
  static constexpr size_t kLargestBlock = size_t(32) << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* top_ = nullptr;
  size_t left_ = 0;
};

namespace {

using Attribute = std::pair<std::string_view, std::string_view>;

// An element whose end tag has not been seen, with what it gathers until then. The stack's entries
// are reused from one element to the next at the same depth, so their buffers are allocated once.
struct OpenElement {
  XmlElement* element = nullptr;
  std::vector<const XmlElement*> children;
  std::string text;
};

struct Builder {
  XML_Parser parser = nullptr;
  std::string source;
  XmlLimits limits;
  std::unique_ptr<XmlArena> arena = std::make_unique<XmlArena>();
  const XmlElement* root = nullptr;
  std::vector<OpenElement> open;  // open[0 .. depth) are the elements being read, innermost last.
  size_t depth = 0;
  size_t elements = 0;
  std::string error;  // Set when a limit stops the parse.

  void Stop(const std::string& why) {
    if (error.empty()) error = why;
    XML_StopParser(parser, XML_FALSE);
  }
};

void OnStart(void* data, const XML_Char* name, const XML_Char** attributes) {
  auto* b = static_cast<Builder*>(data);
  if (!b->error.empty()) return;
  if (b->depth >= static_cast<size_t>(b->limits.max_depth)) {
    return b->Stop("elements nested deeper than " + std::to_string(b->limits.max_depth));
  }
  if (++b->elements > b->limits.max_elements) {
    return b->Stop("more than " + std::to_string(b->limits.max_elements) + " elements");
  }
  XmlArena& arena = *b->arena;
  auto* element = new (arena.Allocate(sizeof(XmlElement), alignof(XmlElement))) XmlElement();
  element->name = arena.Copy(name);
  element->line = static_cast<int>(XML_GetCurrentLineNumber(b->parser));
  size_t count = 0;
  while (attributes[2 * count] != nullptr) ++count;
  if (count > 0) {
    auto* pairs = static_cast<Attribute*>(arena.Allocate(count * sizeof(Attribute), alignof(Attribute)));
    for (size_t i = 0; i < count; ++i) {
      new (&pairs[i]) Attribute(arena.Copy(attributes[2 * i]), arena.Copy(attributes[2 * i + 1]));
    }
    element->attributes = XmlSpan<Attribute>(pairs, count);
  }
  if (b->depth == 0) {
    b->root = element;
  } else {
    b->open[b->depth - 1].children.push_back(element);
  }
  if (b->open.size() <= b->depth) b->open.emplace_back();
  OpenElement& top = b->open[b->depth++];
  top.element = element;
  top.children.clear();
  top.text.clear();
}

void OnEnd(void* data, const XML_Char*) {
  auto* b = static_cast<Builder*>(data);
  if (b->depth == 0) return;
  OpenElement& top = b->open[--b->depth];
  XmlArena& arena = *b->arena;
  if (!top.children.empty()) {
    auto* children = static_cast<const XmlElement**>(
        arena.Allocate(top.children.size() * sizeof(const XmlElement*), alignof(const XmlElement*)));
    std::copy(top.children.begin(), top.children.end(), children);
    top.element->children = XmlSpan<const XmlElement*>(children, top.children.size());
  }
  top.element->text = arena.Copy(top.text);
}

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void OnText(void* data, const XML_Char* text, int length) {
  auto* b = static_cast<Builder*>(data);
  if (b->depth == 0) return;
  OpenElement& top = b->open[b->depth - 1];
  // Indentation between child elements is nobody's text (a sixth of building a CVAT tree).
  if (!top.children.empty() && std::all_of(text, text + length, IsXmlSpace)) return;
  top.text.append(text, static_cast<size_t>(length));
}

// Entity declarations are how XML bombs are built and no format segtune reads uses them.
void OnEntityDeclaration(void* data, const XML_Char* name, int, const XML_Char*, int, const XML_Char*,
                         const XML_Char*, const XML_Char*, const XML_Char*) {
  static_cast<Builder*>(data)->Stop(std::string("entity declaration '") + name + "' (entities are not supported)");
}

std::string Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1));
}

}  // namespace

const std::string_view* XmlElement::Attribute(std::string_view key) const {
  for (const auto& attribute : attributes) {
    if (attribute.first == key) return &attribute.second;
  }
  return nullptr;
}

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement* c : children) {
    if (c->name == child_name) return c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement* c : children) {
    if (c->name == child_name) out.push_back(c);
  }
  return out;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c == nullptr ? "" : Trim(c->text);
}

XmlDocument::XmlDocument(std::unique_ptr<XmlArena> arena, const XmlElement* root) : arena_(std::move(arena)), root_(root) {}
XmlDocument::XmlDocument(XmlDocument&&) noexcept = default;
XmlDocument& XmlDocument::operator=(XmlDocument&&) noexcept = default;
XmlDocument::~XmlDocument() = default;

XmlDocument ParseXml(std::string_view text, const std::string& source, const XmlLimits& limits) {
  Builder b;
  b.source = source;
  b.limits = limits;
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate("UTF-8"), XML_ParserFree);
  if (!parser) throw Error(source + ": cannot create an XML parser (out of memory)");
  b.parser = parser.get();
  XML_SetUserData(b.parser, &b);
  XML_SetElementHandler(b.parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(b.parser, OnText);
  XML_SetEntityDeclHandler(b.parser, OnEntityDeclaration);
  XML_SetParamEntityParsing(b.parser, XML_PARAM_ENTITY_PARSING_NEVER);
  // Parse in pieces: XML_Parse takes an int length.
  constexpr size_t kPiece = 1 << 26;
  size_t at = 0;
  do {
    const size_t n = std::min(kPiece, text.size() - at);
    const bool last = at + n == text.size();
    if (XML_Parse(b.parser, text.data() + at, static_cast<int>(n), last ? XML_TRUE : XML_FALSE) != XML_STATUS_OK) {
      const std::string why = b.error.empty() ? XML_ErrorString(XML_GetErrorCode(b.parser)) : b.error;
      throw FormatError(source, "line " + std::to_string(XML_GetCurrentLineNumber(b.parser)), why);
    }
    at += n;
  } while (at < text.size());
  if (b.root == nullptr) throw FormatError(source, "", "no XML element");
  return XmlDocument(std::move(b.arena), b.root);
}

XmlDocument LoadXml(const std::filesystem::path& path, const XmlLimits& limits) {
  return ParseXml(ReadFile(path), path.string(), limits);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace segtune
