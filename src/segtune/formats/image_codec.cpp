#include "segtune/formats/image_codec.h"

#include <zlib.h>

#include <climits>
#include <cstring>

#include "segtune/core/error.h"
#include "segtune/formats/image_header.h"
#include "segtune/formats/run_deflate.h"

namespace segtune {

ImageFormat DetectImageFormat(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return ImageFormat::kJpeg;
  if (n >= 8 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::kPng;
  if (n >= 6 && (std::memcmp(p, "GIF87a", 6) == 0 || std::memcmp(p, "GIF89a", 6) == 0)) return ImageFormat::kGif;
  if (n >= 2 && p[0] == 'B' && p[1] == 'M') return ImageFormat::kBmp;
  if (n >= 12 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "WEBP", 4) == 0) return ImageFormat::kWebp;
  return ImageFormat::kUnknown;
}

std::string ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kGif: return "gif";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kWebp: return "webp";
    default: return "";
  }
}

std::optional<ImageSize> ReadImageSize(std::string_view bytes) {
  const std::optional<ImageHeader> header = ReadImageHeader(bytes);
  if (!header || header->width > INT_MAX || header->height > INT_MAX) return std::nullopt;
  return ImageSize{int(header->width), int(header->height)};
}

namespace {

void PutBe32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(char(v >> (8 * i)));
}

void AppendChunk(std::string* out, const char* type, const std::string& data) {
  PutBe32(out, uint32_t(data.size()));
  const size_t start = out->size();
  out->append(type, 4);
  out->append(data);
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(out->data() + start), uInt(out->size() - start));
  PutBe32(out, uint32_t(crc));
}

}  // namespace

// Masks are mostly long runs of one value: DeflateGrayScanlines codes them run by run, tens of
// times faster than zlib (even Z_RLE at level 1 hashes every byte). The price is size: a 640x480
// 0/1 mask takes ~2.4 KB instead of ~0.6 KB, still ~1% of the raw pixels.
std::string EncodeGrayPng(const uint8_t* pixels, int height, int width) {
  if (height <= 0 || width <= 0) {
    throw Error("PNG encoding: a " + std::to_string(width) + "x" + std::to_string(height) + " mask has no pixels");
  }
  const std::string idat = DeflateGrayScanlines(pixels, height, width);
  std::string ihdr;
  PutBe32(&ihdr, uint32_t(width));
  PutBe32(&ihdr, uint32_t(height));
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit, grayscale, deflate, no filter, no interlace.
  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendChunk(&png, "IHDR", ihdr);
  AppendChunk(&png, "IDAT", idat);
  AppendChunk(&png, "IEND", "");
  return png;
}

// The scanlines of an indexed image are those of a gray one (one byte per pixel, filter 0), so the
// same run coder makes IDAT; only IHDR's colour type and the PLTE chunk differ.
std::string EncodePalettePng(const uint8_t* pixels, int height, int width, const std::vector<PaletteColor>& palette) {
  if (height <= 0 || width <= 0) {
    throw Error("PNG encoding: a " + std::to_string(width) + "x" + std::to_string(height) + " mask has no pixels");
  }
  if (palette.empty() || palette.size() > 256) {
    throw Error("PNG encoding: a palette has 1 to 256 colours, not " + std::to_string(palette.size()));
  }
  const size_t n = size_t(height) * size_t(width);
  for (size_t i = 0; i < n; ++i) {
    if (pixels[i] >= palette.size()) {
      throw Error("PNG encoding: pixel (" + std::to_string(i % size_t(width)) + ", " + std::to_string(i / size_t(width)) +
                  ") has index " + std::to_string(pixels[i]) + " beyond the " + std::to_string(palette.size()) +
                  "-colour palette");
    }
  }
  std::string ihdr;
  PutBe32(&ihdr, uint32_t(width));
  PutBe32(&ihdr, uint32_t(height));
  ihdr += std::string("\x08\x03\x00\x00\x00", 5);  // 8-bit, indexed colour, deflate, no filter, no interlace.
  std::string plte;
  for (const PaletteColor& c : palette) plte += {char(c.r), char(c.g), char(c.b)};
  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendChunk(&png, "IHDR", ihdr);
  AppendChunk(&png, "PLTE", plte);
  AppendChunk(&png, "IDAT", DeflateGrayScanlines(pixels, height, width));
  AppendChunk(&png, "IEND", "");
  return png;
}

}  // namespace segtune
