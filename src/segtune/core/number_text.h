// Numbers as annotation files write them ("18.43", "+2", " 7 "): parsed without allocating or the C
// locale (std::from_chars), for readers that parse millions of them (CVAT points, YOLO labels), and
// written in their shortest form for writers that write millions (COCO JSON).
#pragma once

#include <string_view>

namespace segtune {

// True and *value set when `text`, without surrounding spaces and tabs and one leading '+', is a
// whole decimal number (fixed or exponent form) and finite. "inf", "nan", "1e999", "" and "1.5x" are
// false.
bool ParseFiniteDouble(std::string_view text, double* value);

// Writes finite `value` at `out` exactly as std::to_chars(out, out + 32, value) does (the shortest
// text that reads back as `value`; fixed or exponent form, whichever is shorter) and returns the end.
// Needs 32 bytes at `out`. Why not to_chars alone: most coordinates in annotation files have a few
// decimals ("18.43"), and for 0.001 <= |value| < 100000 with at most 6 decimals the text is the
// integer round(|value| * 1e6) with a decimal point, found ~5x faster than to_chars' general search.
char* WriteShortestDouble(char* out, double value);

}  // namespace segtune
