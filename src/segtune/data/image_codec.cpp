#include "segtune/data/image_codec.h"

#include <zlib.h>

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/data/run_deflate.h"

namespace segtune {
namespace {

uint32_t Be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }
uint32_t Be32(const uint8_t* p) { return Be16(p) << 16 | Be16(p + 2); }
uint32_t Le16(const uint8_t* p) { return uint32_t(p[1]) << 8 | p[0]; }
int32_t Le32(const uint8_t* p) { return int32_t(Le16(p + 2) << 16 | Le16(p)); }

// Walks the JPEG marker segments up to the first start-of-frame, which holds the size.
std::optional<ImageSize> JpegSize(const uint8_t* p, size_t n) {
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return std::nullopt;
    const uint8_t marker = p[i + 1];
    if (marker == 0xFF) {  // Fill byte.
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // No length.
      i += 2;
      continue;
    }
    const size_t length = Be16(p + i + 2);
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > n) return std::nullopt;
      return ImageSize{int(Be16(p + i + 7)), int(Be16(p + i + 5))};
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // End or scan data before any SOF.
    i += 2 + length;
  }
  return std::nullopt;
}

}  // namespace

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

namespace {

// cv::imdecode asserts (throws cv::Exception) on an empty buffer, and its decoders throw on some
// malformed files: both mean "not a readable image", which the callers report with file and record.
cv::Mat DecodeOrEmpty(std::string_view bytes) {
  if (bytes.empty()) return {};
  try {
    const cv::Mat raw(1, int(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    return cv::imdecode(raw, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception&) {
    return {};
  }
}

}  // namespace

std::optional<ImageSize> ReadImageSize(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  switch (DetectImageFormat(bytes)) {
    case ImageFormat::kJpeg:
      if (auto size = JpegSize(p, n)) return size;
      break;
    case ImageFormat::kPng:
      if (n >= 24 && std::memcmp(p + 12, "IHDR", 4) == 0) return ImageSize{int(Be32(p + 16)), int(Be32(p + 20))};
      break;
    case ImageFormat::kGif:
      if (n >= 10) return ImageSize{int(Le16(p + 6)), int(Le16(p + 8))};
      break;
    case ImageFormat::kBmp:
      if (n >= 26) return ImageSize{std::abs(Le32(p + 18)), std::abs(Le32(p + 22))};
      break;
    default:
      break;
  }
  const cv::Mat image = DecodeOrEmpty(bytes);
  if (image.empty()) return std::nullopt;
  return ImageSize{image.cols, image.rows};
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

bool DecodeGray(std::string_view bytes, std::vector<uint8_t>* pixels, int* height, int* width) {
  cv::Mat image = DecodeOrEmpty(bytes);
  if (image.empty()) return false;
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U);
  if (image.channels() == 3) cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2GRAY);
  *height = image.rows;
  *width = image.cols;
  pixels->resize(size_t(image.rows) * image.cols);
  for (int y = 0; y < image.rows; ++y) std::memcpy(pixels->data() + size_t(y) * image.cols, image.ptr(y), image.cols);
  return true;
}

}  // namespace segtune
