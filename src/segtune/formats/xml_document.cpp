#include "segtune/formats/xml_document.h"

#include <expat.h>

#include <algorithm>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {
namespace {

struct Builder {
  XML_Parser parser = nullptr;
  std::string source;
  XmlLimits limits;
  std::unique_ptr<XmlElement> root;
  std::vector<XmlElement*> open;  // Elements whose end tag has not been seen, innermost last.
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
  if (static_cast<int>(b->open.size()) >= b->limits.max_depth) {
    return b->Stop("elements nested deeper than " + std::to_string(b->limits.max_depth));
  }
  if (++b->elements > b->limits.max_elements) {
    return b->Stop("more than " + std::to_string(b->limits.max_elements) + " elements");
  }
  auto element = std::make_unique<XmlElement>();
  element->name = name;
  element->line = static_cast<int>(XML_GetCurrentLineNumber(b->parser));
  int count = 0;
  while (attributes[count] != nullptr) count += 2;
  element->attributes.reserve(static_cast<size_t>(count / 2));
  for (int i = 0; i < count; i += 2) element->attributes.emplace_back(attributes[i], attributes[i + 1]);
  XmlElement* raw = element.get();
  if (b->open.empty()) {
    b->root = std::move(element);
  } else {
    b->open.back()->children.push_back(std::move(element));
  }
  b->open.push_back(raw);
}

void OnEnd(void* data, const XML_Char*) {
  auto* b = static_cast<Builder*>(data);
  if (!b->open.empty()) b->open.pop_back();
}

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void OnText(void* data, const XML_Char* text, int length) {
  auto* b = static_cast<Builder*>(data);
  if (b->open.empty()) return;
  XmlElement* element = b->open.back();
  // Indentation between child elements is nobody's text, and kept it was a string growing in every
  // element with children (a sixth of building a CVAT tree).
  if (!element->children.empty() && std::all_of(text, text + length, IsXmlSpace)) return;
  element->text.append(text, static_cast<size_t>(length));
}

// Entity declarations are how XML bombs are built and no format segtune reads uses them.
void OnEntityDeclaration(void* data, const XML_Char* name, int, const XML_Char*, int, const XML_Char*,
                         const XML_Char*, const XML_Char*, const XML_Char*) {
  static_cast<Builder*>(data)->Stop(std::string("entity declaration '") + name + "' (entities are not supported)");
}

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

const std::string* XmlElement::Attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return &v;
  }
  return nullptr;
}

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c->name == child_name) return c.get();
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c->name == child_name) out.push_back(c.get());
  }
  return out;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c == nullptr ? "" : Trim(c->text);
}

std::unique_ptr<XmlElement> ParseXml(std::string_view text, const std::string& source, const XmlLimits& limits) {
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
  if (!b.root) throw FormatError(source, "", "no XML element");
  return std::move(b.root);
}

std::unique_ptr<XmlElement> LoadXml(const std::filesystem::path& path, const XmlLimits& limits) {
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
