// DecodeImageBytes decodes most PNGs itself (formats/png_decode.h) and must give exactly what
// cv::imdecode gives for the same bytes and flags: OpenCV is the oracle here, for every PNG kind
// (those segtune decodes itself and those it hands to OpenCV) and every flag segtune passes.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "png_builder.h"
#include "segtune/data/image_decode.h"

namespace segtune {
namespace {

using testing::Chunk;
using testing::Filter;
using testing::MakePng;
using testing::PngSpec;

// Rows of `bytes_per_line` bytes, each with a different filter type, from a pattern.
std::string Lines(int height, size_t bytes_per_line, size_t bpp, int seed) {
  std::string out, previous(bytes_per_line, '\0');
  for (int y = 0; y < height; ++y) {
    std::string line;
    for (size_t i = 0; i < bytes_per_line; ++i) line += char(uint8_t(i * 31 + y * 17 + seed + (i * y) % 7));
    out += Filter((y + seed) % 5, line, previous, bpp);
    previous = line;
  }
  return out;
}

std::string Palette(int entries) {
  std::string p;
  for (int i = 0; i < entries; ++i) p += {char(i * 7), char(255 - i * 3), char(i * 13 % 256)};
  return p;
}

struct Case {
  std::string name, png;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  const int w = 11, h = 7;
  for (const int depth : {1, 2, 4, 8, 16}) {
    const size_t line = (size_t(w) * depth + 7) / 8;
    cases.push_back({"gray" + std::to_string(depth), MakePng({w, h, 0, depth}, Lines(h, line, depth == 16 ? 2 : 1, depth))});
  }
  for (const int depth : {1, 2, 4, 8}) {
    // Every index within the palette: a pattern of bytes reduced to the depth's range.
    std::string lines, previous;
    const size_t line_bytes = (size_t(w) * depth + 7) / 8;
    for (int y = 0; y < h; ++y) {
      std::string row;
      for (size_t i = 0; i < line_bytes; ++i) row += char(uint8_t(i * 53 + y * 29));
      lines += '\0' + row;
    }
    cases.push_back({"palette" + std::to_string(depth), MakePng({w, h, 3, depth, 0, Palette(1 << depth)}, lines)});
  }
  cases.push_back({"rgb8", MakePng({w, h, 2, 8}, Lines(h, w * 3, 3, 1))});
  cases.push_back({"rgba8", MakePng({w, h, 6, 8}, Lines(h, w * 4, 4, 2))});
  cases.push_back({"rgb16", MakePng({w, h, 2, 16}, Lines(h, w * 6, 6, 3))});
  cases.push_back({"gray_alpha8", MakePng({w, h, 4, 8}, Lines(h, w * 2, 2, 4))});
  std::string flat;
  for (int y = 0; y < h; ++y) flat += '\0' + std::string(w, char(y * 40));
  PngSpec transparent{w, h, 3, 8, 0, Palette(256)};
  transparent.before_data = Chunk("tRNS", std::string(3, char(128)));
  cases.push_back({"palette_trns", MakePng(transparent, flat)});
  // An EXIF orientation of 6 (rotate 90 degrees clockwise), big-endian TIFF with one IFD entry.
  PngSpec rotated{w, h, 0, 8};
  rotated.before_data = Chunk("eXIf", std::string("MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0", 26));
  cases.push_back({"exif_orientation", MakePng(rotated, Lines(h, w, 1, 6))});
  PngSpec split{w, h, 0, 8};
  split.idat_chunks = 4;
  cases.push_back({"gray8_split", MakePng(split, Lines(h, w, 1, 5))});
  cases.push_back({"interlaced", MakePng({1, 1, 0, 8, 1}, std::string("\0\x2a", 2))});
  return cases;
}

TEST(DecodeImageBytesPng, EveryKindAndFlagGivesWhatOpenCvGives) {
  const int flag_sets[] = {cv::IMREAD_UNCHANGED, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION,
                           cv::IMREAD_COLOR, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION, cv::IMREAD_GRAYSCALE};
  for (const Case& c : Cases()) {
    for (const int flags : flag_sets) {
      const cv::Mat expected = cv::imdecode(std::vector<uchar>(c.png.begin(), c.png.end()), flags);
      ASSERT_FALSE(expected.empty()) << c.name << ": OpenCV does not decode the test's PNG";
      const cv::Mat ours = DecodeImageBytes(c.png, flags, c.name, "");
      ASSERT_EQ(ours.type(), expected.type()) << c.name << " flags " << flags;
      ASSERT_EQ(ours.size(), expected.size()) << c.name << " flags " << flags;
      EXPECT_EQ(cv::norm(ours, expected, cv::NORM_INF), 0) << c.name << " flags " << flags;
    }
  }
}

TEST(DecodeImageBytesPng, PngsOpenCvWroteGiveTheirPixels) {
  cv::Mat gray(9, 14, CV_8UC1), gray16(9, 14, CV_16UC1), bgr(9, 14, CV_8UC3), bgra(9, 14, CV_8UC4);
  cv::randu(gray, 0, 256), cv::randu(gray16, 0, 65536), cv::randu(bgr, 0, 256), cv::randu(bgra, 0, 256);
  for (const cv::Mat& m : {gray, gray16, bgr, bgra}) {
    std::vector<uchar> png;
    ASSERT_TRUE(cv::imencode(".png", m, png));
    const cv::Mat back = DecodeImageBytes(std::string(png.begin(), png.end()), cv::IMREAD_UNCHANGED, "m.png", "");
    ASSERT_EQ(back.type(), m.type());
    EXPECT_EQ(cv::norm(back, m, cv::NORM_INF), 0) << "type " << m.type();
  }
}

// Above 2^24 pixels OpenCV decodes (the memory budget of docs/security.md); the result is the same.
TEST(DecodeImageBytesPng, LargeImagesDecodeTheSame) {
  cv::Mat gray(4097, 4097, CV_8UC1, cv::Scalar(0));
  cv::line(gray, {0, 0}, {4096, 4000}, cv::Scalar(200), 3);
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", gray, png));
  const cv::Mat back = DecodeImageBytes(std::string(png.begin(), png.end()), cv::IMREAD_UNCHANGED, "big.png", "");
  ASSERT_EQ(back.type(), CV_8UC1);
  EXPECT_EQ(cv::norm(back, gray, cv::NORM_INF), 0);
}

}  // namespace
}  // namespace segtune
