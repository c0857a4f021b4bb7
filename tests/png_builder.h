// PNG files built byte by byte for tests: chosen filter types, bit depths, palettes, IDAT splits
// (the PNG specification's encoder side), so decoders can be checked on what libpng would not write.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace segtune::testing {

inline std::string Be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

inline std::string Chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return Be32(uint32_t(data.size())) + body + Be32(uint32_t(crc));
}

inline std::string Deflate(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                     static_cast<uLong>(raw.size())),
            Z_OK);
  out.resize(size);
  return out;
}

struct PngSpec {
  int width = 0, height = 0, colour_type = 0, depth = 8, interlace = 0;
  std::string palette;  // PLTE data.
  int idat_chunks = 1;  // The compressed data cut into this many IDAT chunks.
  std::string before_data;  // More chunks before IDAT (tRNS, eXIf ...), as Chunk() makes them.
};

// `filtered_lines`: each row's filter byte followed by its bytes, already filtered.
inline std::string MakePng(const PngSpec& spec, const std::string& filtered_lines) {
  std::string ihdr = Be32(spec.width) + Be32(spec.height);
  ihdr += {char(spec.depth), char(spec.colour_type), 0, 0, char(spec.interlace)};
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + Chunk("IHDR", ihdr);
  if (!spec.palette.empty()) png += Chunk("PLTE", spec.palette);
  png += spec.before_data;
  const std::string z = Deflate(filtered_lines);
  const size_t step = (z.size() + spec.idat_chunks - 1) / spec.idat_chunks;
  for (size_t at = 0; at < z.size(); at += step) png += Chunk("IDAT", z.substr(at, step));
  return png + Chunk("IEND", "");
}

inline int Paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// The encoder's side of filter `type` (PNG spec, section 9) on one line of `bpp`-byte pixels.
inline std::string Filter(int type, const std::string& line, const std::string& previous, size_t bpp) {
  std::string out(1, char(type));
  for (size_t i = 0; i < line.size(); ++i) {
    const int x = uint8_t(line[i]), a = i >= bpp ? uint8_t(line[i - bpp]) : 0, b = uint8_t(previous[i]);
    const int c = i >= bpp ? uint8_t(previous[i - bpp]) : 0;
    const int predicted = type == 0 ? 0 : type == 1 ? a : type == 2 ? b : type == 3 ? (a + b) / 2 : Paeth(a, b, c);
    out += char(uint8_t(x - predicted));
  }
  return out;
}

}  // namespace segtune::testing
