#include "segtune/data/image_decode.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/formats/image_header.h"
#include "segtune/formats/png_decode.h"

namespace segtune {
namespace {

// Whether DecodePngAsOpenCvWould converts a PNG of this colour type and bit depth for this mode.
bool Converts(int mode, int colour_type, int depth) {
  switch (colour_type) {
    case 0: return depth <= 8 || mode == cv::IMREAD_UNCHANGED;
    case 3: return mode != cv::IMREAD_GRAYSCALE;
    case 2: case 6: return depth == 8 && mode != cv::IMREAD_GRAYSCALE;
    default: return false;
  }
}

// Images up to 2^24 pixels. PngSamples keeps the inflated rows and a uint16_t per sample beside the
// result (~6 bytes per pixel for 8-bit RGBA on top of the result's 4). Larger images go to OpenCV,
// so a decode of the largest image --max-pixels allows stays within docs/security.md's budget.
constexpr int64_t kMaxOwnDecodePixels = int64_t(1) << 24;

// What cv::imdecode(bytes, flags) gives, for the PNGs formats/png_decode.h decodes and whose
// conversion to OpenCV's layout is a copy: gray (low bit depths widened as libpng widens them), palette,
// RGB and RGBA at 8 bits, 16-bit gray unchanged. nullopt for everything else (other formats and
// flags, interlacing, transparency chunks, an EXIF orientation OpenCV would apply): OpenCV decodes
// those. Why: a mask folder's PNGs are most of what segtune decodes without a model, and this
// spares loading OpenCV's codecs (data/opencv_codecs.h) and libpng's per-image set-up.
// `header`: CheckImageHeader's result for `bytes`.
std::optional<cv::Mat> DecodePngAsOpenCvWould(std::string_view bytes, const ImageHeader& header, int flags,
                                              const std::string& source, const std::string& key) {
  if (header.format != ImageFormat::kPng || header.width * header.height > kMaxOwnDecodePixels) return std::nullopt;
  // IMREAD_UNCHANGED is -1, every bit set (OR-ing IMREAD_IGNORE_ORIENTATION leaves it -1); OpenCV
  // never applies an orientation to it.
  const bool unchanged = flags == cv::IMREAD_UNCHANGED;
  const bool ignore_orientation = unchanged || (flags & cv::IMREAD_IGNORE_ORIENTATION) != 0;
  const int mode = unchanged ? cv::IMREAD_UNCHANGED : flags & ~cv::IMREAD_IGNORE_ORIENTATION;
  if (mode != cv::IMREAD_UNCHANGED && mode != cv::IMREAD_COLOR && mode != cv::IMREAD_GRAYSCALE) return std::nullopt;
  // Decided from IHDR before decoding anything.
  const std::optional<PngLayout> layout = ReadPngLayout(bytes);
  if (!layout || !Converts(mode, layout->colour_type, layout->bit_depth)) return std::nullopt;
  const std::optional<PngSamples> png = DecodePngSamples(bytes, source, key);
  if (!png || png->transparency || (png->exif && !ignore_orientation)) return std::nullopt;
  const int w = png->width, h = png->height, type = png->colour_type, depth = png->bit_depth;
  const uint16_t* in = png->samples.data();
  const size_t n = size_t(w) * size_t(h);
  const int gray_scale = type == 0 && depth < 8 ? 255 / ((1 << depth) - 1) : 1;  // libpng's widening of low-bit gray.
  if (type == 0 && depth == 16 && mode == cv::IMREAD_UNCHANGED) {
    cv::Mat out(h, w, CV_16UC1);
    std::copy_n(in, n, out.ptr<uint16_t>(0));
    return out;
  }
  if (type == 0 && mode != cv::IMREAD_COLOR) {
    cv::Mat out(h, w, CV_8UC1);
    uint8_t* o = out.ptr<uint8_t>(0);
    for (size_t i = 0; i < n; ++i) o[i] = uint8_t(in[i] * gray_scale);
    return out;
  }
  // Colour results (Converts let through no other kind): gray up to 8 bits, palette, RGB, RGBA.
  const bool alpha = type == 6 && mode == cv::IMREAD_UNCHANGED;
  cv::Mat out(h, w, alpha ? CV_8UC4 : CV_8UC3);
  uint8_t* o = out.ptr<uint8_t>(0);
  const int channels = png->channels();
  for (size_t i = 0; i < n; ++i, in += channels, o += out.channels()) {
    uint32_t rgb;
    if (type == 3) {
      rgb = png->palette[in[0]];  // Indices were checked against the palette's size.
    } else if (type == 0) {
      rgb = uint32_t(in[0] * gray_scale) * 0x010101u;
    } else {
      rgb = uint32_t(in[0]) << 16 | uint32_t(in[1]) << 8 | in[2];
    }
    o[0] = uint8_t(rgb), o[1] = uint8_t(rgb >> 8), o[2] = uint8_t(rgb >> 16);  // OpenCV's order: B, G, R.
    if (alpha) o[3] = uint8_t(in[3]);
  }
  return out;
}

}  // namespace

cv::Mat DecodeImageBytes(std::string_view bytes, int flags, const std::string& source, const std::string& key) {
  const ImageHeader header = CheckImageHeader(bytes, source, key);
  if (bytes.size() > size_t(INT_MAX)) throw FormatError(source, key, "image of more than 2 GiB of encoded bytes");
  if (std::optional<cv::Mat> png = DecodePngAsOpenCvWould(bytes, header, flags, source, key)) return std::move(*png);
  cv::Mat image;
  try {
    // imdecode only reads the buffer; the const_cast is for cv::Mat's constructor.
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    image = DecodeWithOpenCv(raw, flags);
  } catch (const cv::Exception& e) {
    throw FormatError(source, key, "image does not decode (OpenCV: " + e.err + ")");
  }
  if (image.empty()) throw FormatError(source, key, "image does not decode (truncated or corrupt data)");
  return image;
}

cv::Mat DecodeImageFile(const std::filesystem::path& path, int flags) {
  return DecodeImageBytes(ReadFile(path), flags, path.string(), "");
}

void DecodeGray(std::string_view bytes, const std::string& source, const std::string& key, std::vector<uint8_t>* pixels,
                int* height, int* width) {
  cv::Mat image = DecodeImageBytes(bytes, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION, source, key);
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U);
  if (image.channels() == 3) cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2GRAY);
  *height = image.rows;
  *width = image.cols;
  pixels->resize(size_t(image.rows) * image.cols);
  for (int y = 0; y < image.rows; ++y) std::memcpy(pixels->data() + size_t(y) * image.cols, image.ptr(y), image.cols);
}

}  // namespace segtune
