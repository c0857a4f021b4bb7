// Image dimensions read from the file header, before any decoder allocates pixels. A 1 MB PNG can
// declare 20000x20000 pixels (1.2 GB decoded); checking the header first is what keeps a hostile
// image from taking the memory. See docs/security.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "segtune/formats/image_codec.h"

namespace segtune {

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  int64_t width = 0;
  int64_t height = 0;
};

// Parses the header of a JPEG (the first SOFn frame header), PNG (IHDR, which must be the first
// chunk), BMP (Windows or OS/2 info header), WebP (VP8, VP8L or VP8X chunk) or GIF (logical
// screen). The stored size: EXIF orientation is ignored. Returns nullopt for any other format, and
// for a header that is cut short or malformed.
std::optional<ImageHeader> ReadImageHeader(std::string_view bytes);

// The header of image bytes about to be decoded, checked against what segtune decodes. Throws
// FormatError "<source>: <key>: ..." if the bytes are empty, not JPEG, PNG, BMP or WebP (OpenCV's
// other decoders - TIFF, JPEG 2000, OpenEXR, PxM, HDR ... - are never given untrusted bytes), the
// header is malformed or declares a zero dimension, or width x height is above
// GetInputLimits().max_image_pixels (the message names the limit and --max-pixels).
ImageHeader CheckImageHeader(std::string_view bytes, const std::string& source, const std::string& key);

// Throws FormatError "<source>: <key>: <what> WxH pixels, above the limit ..." unless width and
// height are > 0 and width x height is within GetInputLimits().max_image_pixels. For code that
// allocates an image-sized buffer (masks painted at an image's size) without decoding it.
void CheckImagePixels(int64_t width, int64_t height, const std::string& source, const std::string& key,
                      const std::string& what);

}  // namespace segtune
