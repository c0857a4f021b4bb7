// The zlib stream of a PNG's image data for an 8-bit gray image, written without zlib's match search.
//
// Masks (instance 0/1 masks, class maps) are a few long runs per row. Coding every run as one literal
// followed by distance-1 matches, with deflate's fixed Huffman table, costs time in proportion to the
// number of runs instead of the number of pixels (zlib's Z_RLE still hashes every byte), and the
// Adler-32 trailer is computed from the runs too. The output is a standard RFC 1950/1951 stream:
// any inflater (libpng, PIL, TensorFlow's PNG decoder) reads it.
#pragma once

#include <cstdint>
#include <string>

namespace segtune {

// zlib stream of the PNG scanlines of a row-major height x width 8-bit buffer, each row preceded by
// filter type 0 (None), i.e. what goes into the IDAT chunks of an 8-bit grayscale PNG.
// Requires height, width >= 1.
std::string DeflateGrayScanlines(const uint8_t* pixels, int height, int width);

}  // namespace segtune
