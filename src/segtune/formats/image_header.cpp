#include "segtune/formats/image_header.h"

#include <cstring>

#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"
#include "segtune/core/log.h"
#include "segtune/formats/byte_order.h"

namespace segtune {
namespace {

bool IsStartOfFrame(uint8_t marker) {
  // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the marker segments up to the first start-of-frame, which holds the size. libjpeg reads the
// same first SOF (a second one is an error there), so this is the size it will allocate for.
std::optional<ImageHeader> Jpeg(const uint8_t* p, size_t n) {
  size_t i = 2;
  while (i + 2 <= n) {
    if (p[i] != 0xFF) return std::nullopt;
    const uint8_t marker = p[i + 1];
    if (marker == 0xFF) {  // Fill byte.
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // No length field.
      i += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // End or scan data before any SOF.
    if (i + 4 > n) return std::nullopt;
    const size_t length = Be16(p + i + 2);
    if (length < 2) return std::nullopt;
    if (IsStartOfFrame(marker)) {
      if (length < 8 || i + 9 > n) return std::nullopt;
      return ImageHeader{ImageFormat::kJpeg, Be16(p + i + 7), Be16(p + i + 5)};
    }
    i += 2 + length;
  }
  return std::nullopt;
}

std::optional<ImageHeader> Png(const uint8_t* p, size_t n) {
  if (n < 24 || Be32(p + 8) != 13 || std::memcmp(p + 12, "IHDR", 4) != 0) return std::nullopt;
  return ImageHeader{ImageFormat::kPng, Be32(p + 16), Be32(p + 20)};
}

std::optional<ImageHeader> Bmp(const uint8_t* p, size_t n) {
  if (n < 26) return std::nullopt;
  const uint32_t info_size = Le32(p + 14);
  if (info_size == 12) return ImageHeader{ImageFormat::kBmp, Le16(p + 18), Le16(p + 20)};  // OS/2 core header.
  if (info_size < 40) return std::nullopt;
  const int64_t width = int32_t(Le32(p + 18)), height = int32_t(Le32(p + 22));  // Negative height: top-down rows.
  if (width < 0) return std::nullopt;
  return ImageHeader{ImageFormat::kBmp, width, height < 0 ? -height : height};
}

// RIFF "WEBP", then the first chunk: lossy VP8, lossless VP8L or extended VP8X (canvas size).
std::optional<ImageHeader> Webp(const uint8_t* p, size_t n) {
  if (n < 30) return std::nullopt;
  const uint8_t* chunk = p + 12;
  const uint8_t* data = p + 20;
  if (std::memcmp(chunk, "VP8 ", 4) == 0) {
    if (data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a) return std::nullopt;
    return ImageHeader{ImageFormat::kWebp, Le16(data + 6) & 0x3fff, Le16(data + 8) & 0x3fff};
  }
  if (std::memcmp(chunk, "VP8L", 4) == 0) {
    if (data[0] != 0x2f) return std::nullopt;
    const uint32_t bits = Le32(data + 1);
    return ImageHeader{ImageFormat::kWebp, (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1};
  }
  if (std::memcmp(chunk, "VP8X", 4) == 0) {
    return ImageHeader{ImageFormat::kWebp, int64_t(Le24(data + 4)) + 1, int64_t(Le24(data + 7)) + 1};
  }
  return std::nullopt;
}

std::string DisplayName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kWebp: return "WebP";
    default: return "image";
  }
}

}  // namespace

std::optional<ImageHeader> ReadImageHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  switch (DetectImageFormat(bytes)) {
    case ImageFormat::kJpeg: return Jpeg(p, n);
    case ImageFormat::kPng: return Png(p, n);
    case ImageFormat::kBmp: return Bmp(p, n);
    case ImageFormat::kWebp: return Webp(p, n);
    case ImageFormat::kGif:
      if (n >= 10) return ImageHeader{ImageFormat::kGif, Le16(p + 6), Le16(p + 8)};
      return std::nullopt;
    default: return std::nullopt;
  }
}

ImageHeader CheckImageHeader(std::string_view bytes, const std::string& source, const std::string& key) {
  if (bytes.empty()) throw FormatError(source, key, "empty (0 bytes): expected a JPEG, PNG, BMP or WebP image");
  const ImageFormat format = DetectImageFormat(bytes);
  if (format == ImageFormat::kUnknown || format == ImageFormat::kGif) {
    throw FormatError(source, key,
                      std::string(format == ImageFormat::kGif ? "a GIF image" : "not a JPEG, PNG, BMP or WebP image") +
                          " (" + WithCommas(static_cast<long long>(bytes.size())) +
                          " bytes); segtune decodes only those formats: convert it to PNG or JPEG");
  }
  const std::optional<ImageHeader> header = ReadImageHeader(bytes);
  const std::string name = DisplayName(format);
  if (!header) throw FormatError(source, key, name + " header is truncated or malformed");
  if (header->width <= 0 || header->height <= 0) {
    throw FormatError(source, key, name + " header declares " + std::to_string(header->width) + "x" +
                                       std::to_string(header->height) + " pixels: an image needs both dimensions > 0");
  }
  CheckImagePixels(header->width, header->height, source, key, name + " header declares");
  return *header;
}

void CheckImagePixels(int64_t width, int64_t height, const std::string& source, const std::string& key,
                      const std::string& what) {
  const int64_t limit = GetInputLimits().max_image_pixels;
  if (width > 0 && height > 0 && width <= limit / height) return;
  throw FormatError(source, key,
                    what + " " + std::to_string(width) + "x" + std::to_string(height) + " pixels, above the limit of " +
                        DescribeLimit(uint64_t(limit)) +
                        " pixels (a decompression bomb, or a very large image: if it is trusted, raise the limit "
                        "with --max-pixels)");
}

}  // namespace segtune
