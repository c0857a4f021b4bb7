// Numbers as annotation files write them ("18.43", "+2", " 7 "): parsed without allocating or the C
// locale (std::from_chars), for readers that parse millions of them (CVAT points, YOLO labels).
#pragma once

#include <string_view>

namespace segtune {

// True and *value set when `text`, without surrounding spaces and tabs and one leading '+', is a
// whole decimal number (fixed or exponent form) and finite. "inf", "nan", "1e999", "" and "1.5x" are
// false.
bool ParseFiniteDouble(std::string_view text, double* value);

}  // namespace segtune
