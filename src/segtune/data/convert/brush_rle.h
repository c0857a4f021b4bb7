// Label Studio's brush masks: the bit-packed run-length format of the @thi.ng/rle-pack package
// (docs/formats.md §16), which Label Studio stores as a JSON array of byte values in
// brushlabels results' value.rle.
//
// The decoded stream is the canvas's RGBA pixels, row-major, 4 values per pixel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace segtune {

// Decodes a stream into its values (num = the stream's first 32 bits). Throws FormatError with
// `source` if the stream ends early, its word size is above 8 bits, or num exceeds max_values.
std::vector<uint8_t> DecodeBrushRle(const std::vector<uint8_t>& bytes, uint64_t max_values, const std::string& source);

// Encodes values with word size 8 and run-length field sizes {3, 4, 8, 16}, as Label Studio's
// own encoder does: runs of 2 or more equal values become a repeat chunk, the rest literal chunks.
std::vector<uint8_t> EncodeBrushRle(const std::vector<uint8_t>& values);

}  // namespace segtune
