// PNG decoding to the samples as stored, for label masks: palette indices stay indices, 1-, 2- and
// 4-bit gray values stay 0..1, 0..3, 0..15, 16-bit gray stays 16-bit.
//
// Why not OpenCV: its decoder (libpng) turns palette indices into colours and widens low-bit gray
// by repeating bits, which a class mask must then undo; and loading OpenCV's codecs takes ~0.13 s
// (data/opencv_codecs.h), most of a mask-folder conversion of 5,000 masks.
//
// Contract: non-interlaced PNGs of every colour type and bit depth. Interlaced (Adam7) PNGs return
// nullopt: the caller decodes them another way. The header is checked (CheckImageHeader: size limit)
// before anything is allocated; the image data must inflate to exactly the size the header
// declares. Chunk CRCs are checked. Throws FormatError "<source>: <key>: image does not decode: PNG ..."
// for anything corrupt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segtune {

struct PngSamples {
  int width = 0;
  int height = 0;
  int colour_type = 0;  // PNG's: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA.
  int bit_depth = 8;    // 1, 2, 4, 8 or 16.
  std::vector<uint32_t> palette;  // Colour type 3: 0xRRGGBB by index.
  bool transparency = false;      // A tRNS chunk (alpha for palette entries or one colour) is present.
  bool exif = false;              // An eXIf chunk (which may hold an orientation) is present.
  // Rows of `width * channels()` samples, each unpacked to one uint16_t.
  std::vector<uint16_t> samples;

  int channels() const;
  uint16_t at(int x, int y, int channel = 0) const {
    return samples[(static_cast<size_t>(y) * width + x) * channels() + channel];
  }
};

// nullopt for an interlaced PNG. Throws FormatError if `png` is not a well-formed PNG.
std::optional<PngSamples> DecodePngSamples(std::string_view png, const std::string& source, const std::string& key);

// A PNG's colour type, bit depth and interlacing as its IHDR (which must be the first chunk)
// declares them; nullopt if `png` does not start with the PNG signature and an IHDR. Reads the first
// 29 bytes only and checks nothing else: for deciding how to decode before decoding.
struct PngLayout {
  int colour_type = 0;
  int bit_depth = 0;
  bool interlaced = false;
};
std::optional<PngLayout> ReadPngLayout(std::string_view png);

// The PLTE entries (0xRRGGBB by index) of any PNG, interlaced ones included; empty if it has none.
// Reads chunks up to the image data only (CRCs checked as above).
std::vector<uint32_t> ReadPngPalette(std::string_view png, const std::string& source, const std::string& key);

}  // namespace segtune
