// Size options written "AxB": `export`/`inspect --input-size HEIGHTxWIDTH` (tensor order) and
// `synth --size WIDTHxHEIGHT` (image order). One parser; each option states its order in --help and
// in the error.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace segtune {

// "AxB" (or "AXB"): decimal digits only on both sides, each in [1, max], returned in the order
// written. Throws UsageError "<option> <text>: expected <form> with each side 1 to <max>, e.g. ...".
std::pair<int64_t, int64_t> ParseTwoDimensions(const std::string& text, const std::string& option,
                                               const std::string& form, int64_t max);

}  // namespace segtune
