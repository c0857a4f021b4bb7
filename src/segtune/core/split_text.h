// Splitting comma-separated text, in the two ways segtune meets it:
//
//   SplitFields("a,,b")         == {"a", "", "b"}   // Positional fields: an empty one keeps its place.
//   SplitNameList(" a, ,b ")    == {"a", "b"}       // A list a person typed: trimmed, blanks dropped.
#pragma once

#include <string>
#include <vector>

namespace segtune {

// Every field between commas, verbatim; "" gives {""}. For lists whose positions mean something (the
// class names in an ONNX model's metadata, where an empty name still stands for its class id).
std::vector<std::string> SplitFields(const std::string& text);

// The non-blank items of a comma-separated list, each trimmed of spaces and tabs (--classes "a, b").
std::vector<std::string> SplitNameList(const std::string& text);

}  // namespace segtune
