// Text from input data shown to a person (a tensor name, a file name from a record): a crafted
// string must not be able to move the cursor, recolor the terminal or fake a line of output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace segtune {

// Length in bytes of the well-formed UTF-8 sequence starting at text[at] (1 for ASCII), with its
// code point in *code_point; 0 if the bytes there are not well-formed UTF-8 (overlong, surrogate,
// truncated or > U+10FFFF).
size_t Utf8SequenceAt(std::string_view text, size_t at, char32_t* code_point);

// True for C0 controls, DEL and C1 controls (U+0080..U+009F): what a terminal may act on.
inline bool IsControlCodePoint(char32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

// `text` with control characters, DEL, C1 controls and bytes of invalid UTF-8 written as \xNN
// (\n, \t, \r as themselves escaped: \n, \t, \r) and backslash as \\. Well-formed printable UTF-8
// is kept as is. Pure function; the result is safe to print on one line.
std::string EscapeForTerminal(std::string_view text);

}  // namespace segtune
