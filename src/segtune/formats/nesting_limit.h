// Nesting limits for the text formats segtune parses (protobuf text format configs and label maps,
// JSON exports). Parsers that recurse per nesting level (protobuf's TextFormat when it skips an
// unknown field, nlohmann's dump/copy) would overflow the stack on a file of a few hundred KB that
// only opens brackets; these checks run first, on the raw text, without recursion.
#pragma once

#include <string>
#include <string_view>

namespace segtune {

// Protobuf's own default recursion limit for known messages; real TF OD API configs nest < 10 deep.
constexpr int kMaxTextFormatNesting = 100;
// simdjson's default maximum depth (it already applies to COCO files): one limit for all JSON input.
constexpr int kMaxJsonNesting = 1024;

// Throws FormatError("<source>: line L: nesting deeper than N levels ...") when `text`, read as
// protobuf text format (`#` comments, quoted strings), opens more than `limit` `{`/`<`/`[` at once.
void CheckTextFormatNesting(std::string_view text, const std::string& source, int limit = kMaxTextFormatNesting);

// The same for JSON (`[`/`{` outside strings). Only counts brackets: it accepts some invalid JSON,
// which the parser that follows rejects.
// `first_line` is the line of the file `text` starts on (NDJSON rows).
void CheckJsonNesting(std::string_view text, const std::string& source, int first_line = 1,
                      int limit = kMaxJsonNesting);

}  // namespace segtune
