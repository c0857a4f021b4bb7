#include "segtune/formats/data_yaml.h"

#include <algorithm>
#include <cctype>

#include "segtune/core/error.h"

namespace segtune {
namespace {

struct Line {
  int number = 0;    // 1-based.
  int indent = 0;    // Leading spaces.
  std::string text;  // Without indentation, comment and trailing blanks.
};

[[noreturn]] void Fail(const std::filesystem::path& file, int line, const std::string& what) {
  throw FormatError(file, "line " + std::to_string(line), what);
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string TrimRight(std::string s) {
  while (!s.empty() && IsBlank(s.back())) s.pop_back();
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0;
  while (b < s.size() && IsBlank(s[b])) ++b;
  return TrimRight(s.substr(b));
}

// A quote opens a quoted scalar only where a value can start (YAML: "it's" is a plain scalar).
bool ValueStart(const std::string& s, size_t i) {
  if (i == 0) return true;
  const char p = s[i - 1];
  return p == ' ' || p == '[' || p == '{' || p == ',';
}

// The index of the quote that closes the quoted scalar opened at s[open] ('\'' or '"'), or npos when it
// does not close in `s`. Inside single quotes '' is an escaped quote; inside double quotes, a backslash
// escapes the next character.
size_t QuoteEnd(const std::string& s, size_t open) {
  const char quote = s[open];
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (quote == '"' && s[i] == '\\') {
      ++i;
    } else if (s[i] == quote) {
      if (quote == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;
        continue;
      }
      return i;
    }
  }
  return std::string::npos;
}

// True when the line's value is a block scalar indicator: `key: |`, `key: >-`, `- |2`: '|' or '>'
// and at most two of '-', '+' and a digit, after ": " or a list item's "- ".
bool StartsBlockScalar(const std::string& body) {
  size_t at = body.size();
  while (at > 0 && body.size() - at < 2 && (body[at - 1] == '-' || body[at - 1] == '+' || std::isdigit(static_cast<unsigned char>(body[at - 1])))) --at;
  if (at < 3 || (body[at - 1] != '|' && body[at - 1] != '>')) return false;
  const std::string before = body.substr(0, at - 1);
  return before == "- " || (before.size() > 2 && before.compare(before.size() - 2, 2, ": ") == 0);
}

// The line without its comment: '#' at the start or after a blank, outside quotes.
std::string StripComment(const std::string& s, const std::filesystem::path& file, int number) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == '\'' || c == '"') && ValueStart(s, i)) {
      i = QuoteEnd(s, i);
      if (i == std::string::npos) {
        Fail(file, number, std::string("unterminated ") + (c == '"' ? "double" : "single") +
                               "-quoted string (quoted strings must end on their line)");
      }
    } else if (c == '#' && (i == 0 || IsBlank(s[i - 1]))) {
      return TrimRight(s.substr(0, i));
    }
  }
  return TrimRight(s);
}

std::vector<Line> SplitLines(std::string_view text, const std::filesystem::path& file) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<Line> lines;
  int number = 0;
  size_t pos = 0;
  // >= 0 while the lines are a block scalar's (`key: |`) more indented than this: Ultralytics' own
  // dataset files carry Python `download:` scripts whose quotes and '#' are not YAML's. The value is
  // reported as unsupported; its lines are skipped.
  int block_scalar_indent = -1;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string raw(text.substr(pos, end - pos));
    pos = end + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    size_t indent = 0;
    while (indent < raw.size() && IsBlank(raw[indent])) {
      if (raw[indent] == '\t' && raw.find_first_not_of(" \t") != std::string::npos && raw[raw.find_first_not_of(" \t")] != '#') {
        Fail(file, number, "tab in indentation (YAML indents with spaces)");
      }
      ++indent;
    }
    if (block_scalar_indent >= 0) {  // Inside a block scalar: its lines are text, not YAML.
      if (indent > static_cast<size_t>(block_scalar_indent) || raw.find_first_not_of(" \t") == std::string::npos) {
        if (end == text.size()) break;
        continue;
      }
      block_scalar_indent = -1;
    }
    std::string body = StripComment(raw.substr(indent), file, number);
    if (body.empty()) continue;
    if (StartsBlockScalar(body)) block_scalar_indent = static_cast<int>(indent);
    lines.push_back({number, static_cast<int>(indent), std::move(body)});
    if (end == text.size()) break;
  }
  return lines;
}

// Parses a quoted scalar starting at s[*i] (a quote); leaves *i after the closing quote.
YamlScalar ParseQuoted(const std::string& s, size_t* i, const std::filesystem::path& file, int number) {
  const char quote = s[*i];
  YamlScalar out{"", true, number};
  for (size_t k = *i + 1; k < s.size(); ++k) {
    const char c = s[k];
    if (quote == '\'' && c == '\'') {
      if (k + 1 < s.size() && s[k + 1] == '\'') {
        out.text += '\'';
        ++k;
        continue;
      }
      *i = k + 1;
      return out;
    }
    if (quote == '"' && c == '"') {
      *i = k + 1;
      return out;
    }
    if (quote == '"' && c == '\\') {
      if (k + 1 >= s.size()) break;
      const char e = s[++k];
      switch (e) {
        case '\\': out.text += '\\'; break;
        case '"': out.text += '"'; break;
        case '/': out.text += '/'; break;
        case 'n': out.text += '\n'; break;
        case 't': out.text += '\t'; break;
        case ' ': out.text += ' '; break;
        default:
          Fail(file, number, std::string("escape \\") + e + " in a double-quoted string (supported: \\\\ \\\" \\/ \\n \\t)");
      }
      continue;
    }
    out.text += c;
  }
  Fail(file, number, "unterminated quoted string");
}

// One scalar that makes up all of `s` (already trimmed). `flow`: inside [..] or {..}.
YamlScalar ParseScalar(const std::string& s, bool flow, const std::filesystem::path& file, int number) {
  if (!s.empty() && (s[0] == '\'' || s[0] == '"')) {
    size_t i = 0;
    YamlScalar out = ParseQuoted(s, &i, file, number);
    if (!Trim(s.substr(i)).empty()) Fail(file, number, "text after a quoted string: '" + s.substr(i) + "'");
    return out;
  }
  if (s.find(": ") != std::string::npos || (!s.empty() && s.back() == ':')) {
    Fail(file, number, "'" + s + "': a mapping inside a value is beyond the YAML this reader accepts (quote the text if it is one string)");
  }
  if (flow && s.find_first_of("[]{}") != std::string::npos) {
    Fail(file, number, "'" + s + "': nested brackets inside a flow list or map are beyond the YAML this reader accepts");
  }
  return {s, false, number};
}

// The comma-separated parts of a flow collection's inside, outside quotes.
std::vector<std::string> SplitFlow(const std::string& inside) {
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 0; i < inside.size(); ++i) {
    const char c = inside[i];
    if ((c == '\'' || c == '"') && Trim(current).empty()) {  // A quoted entry: its commas are text.
      const size_t end = std::min(QuoteEnd(inside, i), inside.size() - 1);
      current += inside.substr(i, end - i + 1);
      i = end;
    } else if (c == ',') {
      parts.push_back(Trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(Trim(current));
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // [a, b,] is allowed.
  return parts;
}

// Splits "key: value" at the first ': ' (or a final ':') outside quotes; false if there is none.
bool SplitKey(const std::string& s, std::string* key, std::string* rest) {
  size_t i = 0;
  if (!s.empty() && (s[0] == '\'' || s[0] == '"')) {
    const size_t close = s.find(s[0], 1);
    if (close == std::string::npos) return false;
    i = close + 1;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) {
      *key = Trim(s.substr(0, i));
      *rest = Trim(s.substr(i + 1));
      return !key->empty();
    }
  }
  return false;
}

void ParseFlow(const std::string& s, int number, const std::filesystem::path& file, YamlValue* value) {
  const bool list = s[0] == '[';
  const char close = list ? ']' : '}';
  if (s.back() != close) {
    value->kind = YamlValue::kUnsupported;
    value->unsupported = "a flow collection not closed on its line";
    value->unsupported_line = number;
    return;
  }
  value->kind = list ? YamlValue::kList : YamlValue::kMap;
  for (const std::string& part : SplitFlow(s.substr(1, s.size() - 2))) {
    if (part.empty()) Fail(file, number, "empty entry in '" + s + "'");
    if (list) {
      value->items.push_back(ParseScalar(part, true, file, number));
      continue;
    }
    std::string k, v;
    if (!SplitKey(part, &k, &v)) Fail(file, number, "'" + part + "' in a flow map: expected 'key: value'");
    value->entries.emplace_back(ParseScalar(k, true, file, number), ParseScalar(v, true, file, number));
  }
}

// True when the brackets opened in `s` (outside quotes) are all closed.
bool FlowClosed(const std::string& s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      i = QuoteEnd(s, i);
      if (i == std::string::npos) break;  // The rest is inside quotes.
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return depth <= 0;
}

void MarkUnsupported(YamlValue* value, const std::string& what, int line) {
  value->kind = YamlValue::kUnsupported;
  value->unsupported = what;
  value->unsupported_line = line;
}

// The value written on the key's own line.
void ParseInline(const std::string& rest, int number, const std::filesystem::path& file, YamlValue* value) {
  const char c = rest[0];
  if (c == '[' || c == '{') return ParseFlow(rest, number, file, value);
  if (c == '|' || c == '>') return MarkUnsupported(value, "a block scalar (" + std::string(1, c) + ")", number);
  if (c == '&' || c == '*' || c == '!') return MarkUnsupported(value, "an anchor, alias or tag (" + std::string(1, c) + ")", number);
  value->kind = YamlValue::kScalar;
  value->scalar = ParseScalar(rest, false, file, number);
}

// The indented lines under a key with no inline value: `- item` lines or `key: value` lines, all
// at one indentation, each a scalar.
void ParseBlock(const std::vector<Line>& block, const std::filesystem::path& file, YamlValue* value) {
  const bool list = block[0].text == "-" || block[0].text.rfind("- ", 0) == 0;
  value->kind = list ? YamlValue::kList : YamlValue::kMap;
  for (const Line& l : block) {
    if (l.indent != block[0].indent) return MarkUnsupported(value, "nested indentation", l.number);
    const bool item = l.text == "-" || l.text.rfind("- ", 0) == 0;
    if (item != list) return MarkUnsupported(value, "list items mixed with map entries", l.number);
    std::string k, v = Trim(l.text.substr(1));
    if (list) {
      std::string item_key, item_value;
      if (v.empty() || std::string("[{|>&*!").find(v[0]) != std::string::npos || SplitKey(v, &item_key, &item_value)) {
        return MarkUnsupported(value, "a list item that is not a single scalar", l.number);
      }
      value->items.push_back(ParseScalar(v, false, file, l.number));
      continue;
    }
    if (!SplitKey(l.text, &k, &v)) return MarkUnsupported(value, "a multi-line value", l.number);
    if (v.empty() || std::string("[{|>&*!").find(v[0]) != std::string::npos) {
      return MarkUnsupported(value, "a map entry that is not a single scalar", l.number);
    }
    value->entries.emplace_back(ParseScalar(k, false, file, l.number), ParseScalar(v, false, file, l.number));
  }
}

}  // namespace

const YamlValue* YamlDocument::Find(std::string_view key) const {
  for (const auto& [k, v] : keys) {
    if (k == key) return &v;
  }
  return nullptr;
}

YamlDocument ParseDataYaml(std::string_view text, const std::filesystem::path& file) {
  YamlDocument doc;
  doc.file = file;
  const std::vector<Line> lines = SplitLines(text, file);
  size_t i = 0;
  if (!lines.empty() && lines[0].indent == 0 && lines[0].text == "---") ++i;
  while (i < lines.size()) {
    const Line& l = lines[i++];
    if (l.text == "---" || l.text == "...") Fail(file, l.number, "a second YAML document ('" + l.text + "'): expected one");
    if (l.text[0] == '%') Fail(file, l.number, "YAML directives are beyond the YAML this reader accepts");
    if (l.indent != 0) Fail(file, l.number, "unexpected indentation: expected a top-level 'key: value'");
    std::string key, rest;
    if (l.text[0] == '-' || !SplitKey(l.text, &key, &rest)) Fail(file, l.number, "expected a top-level 'key: value', got '" + l.text + "'");
    if (key[0] == '\'' || key[0] == '"') key = ParseScalar(key, false, file, l.number).text;
    if (doc.Find(key)) Fail(file, l.number, "key '" + key + "' appears twice");
    YamlValue value;
    value.line = l.number;
    // The lines that belong to this key: indented ones, and `- ` at column 0 (a block list may sit
    // at its key's indentation).
    std::vector<Line> block;
    while (i < lines.size() && (lines[i].indent > 0 || (rest.empty() && lines[i].text[0] == '-' &&
                                                          (lines[i].text.size() == 1 || lines[i].text[1] == ' ')))) {
      block.push_back(lines[i++]);
    }
    // A flow list or map continued on the next lines (YOLOv5's `names: ['person', ...,` wraps):
    // joined until its brackets close.
    if ((rest[0] == '[' || rest[0] == '{') && !block.empty() && !FlowClosed(rest)) {
      size_t used = 0;
      while (used < block.size() && !FlowClosed(rest)) rest += " " + block[used++].text;
      block.erase(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(used));
    }
    if (!rest.empty()) {
      ParseInline(rest, l.number, file, &value);
      if (!block.empty() && value.kind != YamlValue::kUnsupported) {
        MarkUnsupported(&value, "a value continued on the next lines", block[0].number);
      }
    } else if (block.empty()) {
      value.scalar = {"", false, l.number};  // Null.
    } else {
      ParseBlock(block, file, &value);
    }
    doc.keys.emplace_back(std::move(key), std::move(value));
  }
  return doc;
}

}  // namespace segtune
