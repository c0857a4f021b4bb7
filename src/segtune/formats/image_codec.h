// What coco2tfrecord needs from image files without decoding them: the format from the magic bytes
// and the size from the header. Plus the 8-bit gray PNG encoder for masks
// (decoding is data/image_decode.h: it needs an image codec library).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segtune {

enum class ImageFormat { kUnknown, kJpeg, kPng, kGif, kBmp, kWebp };

ImageFormat DetectImageFormat(std::string_view bytes);
// The image/format value TF uses: "jpeg", "png", "gif", "bmp", "webp"; "" for kUnknown.
std::string ImageFormatName(ImageFormat format);

struct ImageSize {
  int width = 0;
  int height = 0;
};

// Width and height from the file header (JPEG SOF, PNG IHDR, GIF, BMP, WebP; image_header.h), never
// decoding. The stored size: EXIF orientation is ignored, as TF's decoders do.
// Returns nullopt if the bytes are not one of those formats or the header is malformed.
std::optional<ImageSize> ReadImageSize(std::string_view bytes);

// Encodes a row-major h x w 8-bit single-channel buffer as a grayscale PNG. Throws Error on failure.
std::string EncodeGrayPng(const uint8_t* pixels, int height, int width);

// One palette entry of an indexed PNG.
struct PaletteColor {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const PaletteColor& o) const { return r == o.r && g == o.g && b == o.b; }
};

// Encodes a row-major h x w buffer of palette indexes as an 8-bit indexed-colour PNG (colour type 3,
// PLTE chunk): what Pascal VOC's SegmentationClass/SegmentationObject masks are. `palette` has 1 to
// 256 entries; every pixel must index into it. Throws Error otherwise.
std::string EncodePalettePng(const uint8_t* pixels, int height, int width, const std::vector<PaletteColor>& palette);
}  // namespace segtune
