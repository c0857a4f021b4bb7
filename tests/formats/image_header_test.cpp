// Image headers are read and checked before any decoder allocates pixels (issue 18 items 7 and 9).
#include "segtune/formats/image_header.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"
#include "segtune/data/image_decode.h"

namespace segtune {
namespace {

std::string Encode(const std::string& ext, int height, int width, int type = CV_8UC3) {
  cv::Mat image(height, width, type, cv::Scalar::all(90));
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes)) << ext;
  return std::string(bytes.begin(), bytes.end());
}

void PutBe32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(char(v >> (8 * i)));
}

void Chunk(std::string* png, const char* type, const std::string& data) {
  PutBe32(png, uint32_t(data.size()));
  const size_t start = png->size();
  png->append(type, 4);
  png->append(data);
  PutBe32(png, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(png->data() + start), uInt(png->size() - start))));
}

// A valid, small PNG declaring width x height gray pixels: the first rows of zeros, deflated. The
// issue's 1.2 MB 20000x20000 PNG took 12.3 GB in `infer`; this is its header with a short body.
std::string PngBomb(uint32_t width, uint32_t height) {
  std::string ihdr;
  PutBe32(&ihdr, width);
  PutBe32(&ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);
  std::string raw(size_t(width + 1) * 4, '\0');  // Four scanlines (filter byte + pixels).
  uLongf size = compressBound(raw.size());
  std::string idat(size, '\0');
  compress(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  idat.resize(size);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  Chunk(&png, "IHDR", ihdr);
  Chunk(&png, "IDAT", idat);
  Chunk(&png, "IEND", "");
  return png;
}

std::string DecodeError(const std::string& bytes, int flags = cv::IMREAD_COLOR) {
  try {
    DecodeImageBytes(bytes, flags, "data/train.record: record 7", "image/encoded");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ImageHeader, ReadsSizesOfPngJpegBmpAndWebp) {
  for (const char* ext : {".png", ".jpg", ".bmp"}) {
    const auto header = ReadImageHeader(Encode(ext, 37, 53));
    ASSERT_TRUE(header) << ext;
    EXPECT_EQ(header->width, 53) << ext;
    EXPECT_EQ(header->height, 37) << ext;
  }
  // WebP lossless (VP8L): signature 0x2f, then 14 bits width-1 and 14 bits height-1.
  std::string webp = "RIFF" + std::string(4, '\0') + "WEBPVP8L" + std::string(4, '\0');
  const uint32_t bits = (53 - 1) | (37 - 1) << 14;
  webp += char(0x2f);
  for (int i = 0; i < 4; ++i) webp += char(bits >> (8 * i));
  webp += std::string(8, '\0');
  const auto header = ReadImageHeader(webp);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->width, 53);
  EXPECT_EQ(header->height, 37);
}

TEST(ImageHeader, TruncatedHeadersAreNotSizes) {
  const std::string png = Encode(".png", 10, 10);
  EXPECT_FALSE(ReadImageHeader(png.substr(0, 20)));
  const std::string jpeg = Encode(".jpg", 10, 10);
  EXPECT_FALSE(ReadImageHeader(jpeg.substr(0, 12)));
  EXPECT_FALSE(ReadImageHeader(""));
}

TEST(DecodeImageBytes, PngBombIsRejectedFromItsHeaderNamingLimitAndOption) {
  const std::string message = DecodeError(PngBomb(20000, 20000));
  EXPECT_NE(message.find("data/train.record: record 7: image/encoded: PNG header declares 20000x20000 pixels"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("limit of 2^26 (67,108,864) pixels"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-pixels"), std::string::npos) << message;
}

// The "PNG header claiming 100000x100000": OpenCV's own size assertion used to escape raw.
TEST(DecodeImageBytes, HugeDimensionsAreASegtuneErrorNotAnOpenCvAssertion) {
  const std::string message = DecodeError(PngBomb(100000, 100000));
  EXPECT_NE(message.find("record 7: image/encoded: PNG header declares 100000x100000"), std::string::npos) << message;
}

TEST(DecodeImageBytes, EmptyBytesNameTheRecordAndKey) {
  const std::string message = DecodeError("");
  EXPECT_NE(message.find("data/train.record: record 7: image/encoded: empty (0 bytes)"), std::string::npos) << message;
}

TEST(DecodeImageBytes, FormatsBeyondJpegPngBmpWebpAreRefusedNotDecoded) {
  const std::string tiff = Encode(".tiff", 8, 8);
  ASSERT_FALSE(cv::imdecode(std::vector<uint8_t>(tiff.begin(), tiff.end()), cv::IMREAD_COLOR).empty());
  const std::string message = DecodeError(tiff);
  EXPECT_NE(message.find("not a JPEG, PNG, BMP or WebP image"), std::string::npos) << message;
}

TEST(DecodeImageBytes, CorruptDataIsAFormatErrorNamingTheRecord) {
  std::string png = Encode(".png", 64, 64);
  png.resize(60);  // Header intact, data cut.
  const std::string message = DecodeError(png);
  EXPECT_NE(message.find("record 7: image/encoded: image does not decode"), std::string::npos) << message;
}

TEST(DecodeImageBytes, ZeroDimensionIsRejected) {
  const std::string message = DecodeError(PngBomb(0, 5));
  EXPECT_NE(message.find("declares 0x5 pixels"), std::string::npos) << message;
}

TEST(DecodeImageBytes, MaxPixelsIsTheProcessLimit) {
  const InputLimits saved = GetInputLimits();
  InputLimits limits = saved;
  limits.max_image_pixels = 100;
  SetInputLimits(limits);
  EXPECT_EQ(DecodeImageBytes(Encode(".png", 10, 10), cv::IMREAD_COLOR, "a", "b").cols, 10);
  const std::string message = DecodeError(Encode(".png", 10, 11));
  EXPECT_NE(message.find("declares 11x10 pixels, above the limit of 100 pixels"), std::string::npos) << message;
  SetInputLimits(saved);
}

}  // namespace
}  // namespace segtune
