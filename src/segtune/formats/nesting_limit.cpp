#include "segtune/formats/nesting_limit.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>

#include "segtune/core/error.h"

namespace segtune {

namespace {

[[noreturn]] void TooDeep(const std::string& source, int line, int limit, const char* format) {
  throw FormatError(source + ": line " + std::to_string(line) + ": nesting deeper than " + std::to_string(limit) +
                    " levels (segtune's limit for " + format +
                    " files; real files nest far less, so this one is corrupt or crafted)");
}

}  // namespace

void CheckTextFormatNesting(std::string_view text, const std::string& source, int limit) {
  namespace io = google::protobuf::io;
  if (text.size() > size_t(INT_MAX)) throw FormatError(source + ": larger than 2 GB; not a text config");
  io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  // Syntax errors are the parser's to report, with its own wording; here only depth matters.
  struct Quiet : io::ErrorCollector {
    void AddError(int, io::ColumnNumber, const std::string&) override {}
  } quiet;
  io::Tokenizer tokenizer(&input, &quiet);
  tokenizer.set_comment_style(io::Tokenizer::SH_COMMENT_STYLE);
  int depth = 0;
  while (tokenizer.Next()) {
    const auto& t = tokenizer.current();
    if (t.type != io::Tokenizer::TYPE_SYMBOL || t.text.size() != 1) continue;
    const char c = t.text[0];
    if (c == '{' || c == '<' || c == '[') {
      if (++depth > limit) TooDeep(source, t.line + 1, limit, "protobuf text");
    } else if ((c == '}' || c == '>' || c == ']') && depth > 0) {
      --depth;
    }
  }
}

void CheckJsonNesting(std::string_view text, const std::string& source, int first_line, int limit) {
  int depth = 0, line = first_line;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') ++i;  // An escaped quote does not end the string.
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) TooDeep(source, line, limit, "JSON");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace segtune
