// formats/png_decode.h against PNGs built here byte by byte (each filter type, low bit depths,
// palettes, split image data) and PNGs OpenCV wrote, whose pixels OpenCV's own decoder also gives.
#include "segtune/formats/png_decode.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "png_builder.h"
#include "segtune/core/error.h"

namespace segtune {
namespace {

using testing::Filter;
using testing::MakePng;
using testing::PngSpec;

TEST(PngDecode, EveryFilterTypeAndSplitImageDataGiveTheStoredGrayValues) {
  const int width = 23, height = 10;
  std::string lines, previous(width, '\0');
  std::vector<uint16_t> expected;
  for (int y = 0; y < height; ++y) {
    std::string line;
    for (int x = 0; x < width; ++x) line += char(uint8_t((x * 37 + y * 11) ^ (x * y)));
    for (const char c : line) expected.push_back(uint8_t(c));
    lines += Filter(y % 5, line, previous, 1);
    previous = line;
  }
  const std::string png = MakePng({width, height, 0, 8, 0, "", 3}, lines);
  const auto image = DecodePngSamples(png, "mask.png", "");
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->width, width);
  EXPECT_EQ(image->height, height);
  EXPECT_EQ(image->channels(), 1);
  EXPECT_EQ(image->samples, expected);
  // OpenCV (libpng) reads the same bytes to the same values.
  const cv::Mat opencv = cv::imdecode(std::vector<uchar>(png.begin(), png.end()), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(opencv.type(), CV_8UC1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) ASSERT_EQ(image->at(x, y), opencv.at<uint8_t>(y, x)) << x << "," << y;
}

TEST(PngDecode, RgbRowsWithThreeBytePixelsUnfilterAgainstTheirLeftPixel) {
  const int width = 9, height = 6;
  std::string lines, previous(width * 3, '\0');
  std::vector<uint16_t> expected;
  for (int y = 0; y < height; ++y) {
    std::string line;
    for (int i = 0; i < width * 3; ++i) line += char(uint8_t(i * 29 + y * 53));
    for (const char c : line) expected.push_back(uint8_t(c));
    lines += Filter(4 - y % 5, line, previous, 3);
    previous = line;
  }
  const auto image = DecodePngSamples(MakePng({width, height, 2, 8}, lines), "rgb.png", "");
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->channels(), 3);
  EXPECT_EQ(image->samples, expected);
}

TEST(PngDecode, PaletteIndicesAndLowBitGrayStayAsStored) {
  // 4-bit palette, width 5 (odd: the last byte of each row is half used).
  std::string palette;
  for (int i = 0; i < 6; ++i) palette += {char(i * 40), char(255 - i * 40), char(i)};
  const std::string lines = std::string("\0\x01\x23\x40", 4) + std::string("\0\x54\x32\x10", 4);
  const auto indexed = DecodePngSamples(MakePng({5, 2, 3, 4, 0, palette}, lines), "voc.png", "");
  ASSERT_TRUE(indexed.has_value());
  EXPECT_EQ(indexed->samples, (std::vector<uint16_t>{0, 1, 2, 3, 4, 5, 4, 3, 2, 1}));
  ASSERT_EQ(indexed->palette.size(), 6u);
  EXPECT_EQ(indexed->palette[2], 0x50AF02u);

  // 1-bit gray, width 10: values 0 and 1, not 0 and 255.
  const std::string bits = std::string("\0\xA5\xC0", 3);  // 1010 0101 11(000000)
  const auto gray = DecodePngSamples(MakePng({10, 1, 0, 1}, bits), "bits.png", "");
  ASSERT_TRUE(gray.has_value());
  EXPECT_EQ(gray->samples, (std::vector<uint16_t>{1, 0, 1, 0, 0, 1, 0, 1, 1, 1}));
}

TEST(PngDecode, PngsOpenCvWroteDecodeToTheirPixels) {
  cv::Mat gray16(7, 13, CV_16UC1), bgra(5, 8, CV_8UC4);
  for (int y = 0; y < gray16.rows; ++y)
    for (int x = 0; x < gray16.cols; ++x) gray16.at<uint16_t>(y, x) = uint16_t(x * 4099 + y * 331);
  for (int y = 0; y < bgra.rows; ++y)
    for (int x = 0; x < bgra.cols; ++x) bgra.at<cv::Vec4b>(y, x) = cv::Vec4b(x * 30, y * 50, x * y, 200 + x);
  std::vector<uchar> png16, png_rgba;
  ASSERT_TRUE(cv::imencode(".png", gray16, png16));
  ASSERT_TRUE(cv::imencode(".png", bgra, png_rgba));

  const auto a = DecodePngSamples(std::string_view(reinterpret_cast<char*>(png16.data()), png16.size()), "ids.png", "");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->bit_depth, 16);
  for (int y = 0; y < gray16.rows; ++y)
    for (int x = 0; x < gray16.cols; ++x) ASSERT_EQ(a->at(x, y), gray16.at<uint16_t>(y, x));

  const auto b = DecodePngSamples(std::string_view(reinterpret_cast<char*>(png_rgba.data()), png_rgba.size()), "c.png", "");
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->colour_type, 6);
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) {
      const cv::Vec4b p = bgra.at<cv::Vec4b>(y, x);  // OpenCV's order: B, G, R, A; PNG's: R, G, B, A.
      ASSERT_EQ(b->at(x, y, 0), p[2]);
      ASSERT_EQ(b->at(x, y, 1), p[1]);
      ASSERT_EQ(b->at(x, y, 2), p[0]);
      ASSERT_EQ(b->at(x, y, 3), p[3]);
    }
  }
}

TEST(PngDecode, LayoutIsReadFromIhdrAlone) {
  const auto layout = ReadPngLayout(MakePng({4, 4, 3, 4, 1, std::string(6, '\0')}, ""));
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->colour_type, 3);
  EXPECT_EQ(layout->bit_depth, 4);
  EXPECT_TRUE(layout->interlaced);
  EXPECT_FALSE(ReadPngLayout(MakePng({4, 4, 0, 8}, "")).value().interlaced);
  EXPECT_FALSE(ReadPngLayout("\xff\xd8\xff\xe0 a JPEG").has_value());
  EXPECT_FALSE(ReadPngLayout(std::string("\x89PNG\r\n\x1a\n", 8)).has_value());  // No IHDR.
}

TEST(PngDecode, InterlacedPngsAreLeftToTheCaller) {
  EXPECT_FALSE(DecodePngSamples(MakePng({4, 4, 0, 8, 1}, std::string(40, '\0')), "adam7.png", "").has_value());
}

void ExpectFormatError(const std::string& png, const std::string& needle) {
  try {
    DecodePngSamples(png, "bad.png", "image/object/mask[2]");
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad.png: image/object/mask[2]: "), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(PngDecode, CorruptPngsAreFormatErrorsNamingTheSourceAndTheFault) {
  const std::string lines = std::string("\0\x01\x02\x03", 4) + std::string("\0\x04\x05\x06", 4);
  const std::string good = MakePng({3, 2, 0, 8}, lines);
  ASSERT_TRUE(DecodePngSamples(good, "good.png", "").has_value());

  std::string flipped = good;
  flipped[flipped.size() - 20] ^= 0x40;  // Inside the IDAT data: its CRC no longer matches.
  ExpectFormatError(flipped, "CRC mismatch");
  ExpectFormatError(MakePng({3, 2, 0, 8}, lines.substr(0, 6)), "cut short");
  ExpectFormatError(MakePng({3, 2, 0, 8}, lines + std::string("\0\x07\x08\x09", 4)), "more than the header's");
  ExpectFormatError(MakePng({3, 2, 0, 8}, std::string("\x07\x01\x02\x03", 4) + lines.substr(4)), "unknown filter type 7");
  ExpectFormatError(MakePng({3, 2, 3, 8, 0, std::string("\0\0\0", 3)}, lines), "past the palette");
  ExpectFormatError(MakePng({3, 2, 3, 8}, lines), "without a palette");
  ExpectFormatError(MakePng({3, 2, 2, 4}, lines), "bit depth 4 is not valid");
  ExpectFormatError(good.substr(0, good.size() - 30), "");
}

}  // namespace
}  // namespace segtune
