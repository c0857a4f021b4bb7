// formats/exif_orientation.h: the orientation tag of a JPEG's EXIF block in either byte order, and 1
// (as stored) for anything missing, cut short or out of range, without reading past the bytes given.
#include "segtune/formats/exif_orientation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "segtune/core/atomic_file.h"
#include "test_util.h"

namespace segtune {
namespace {

// SOI, an APP1 Exif segment holding `tiff`, then a frame header (SOF0 of 8x8).
std::string JpegWithTiff(const std::string& tiff) {
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  std::string jpeg = "\xff\xd8\xff\xe1";
  jpeg += char((payload.size() + 2) >> 8);
  jpeg += char((payload.size() + 2) & 0xff);
  jpeg += payload;
  jpeg += std::string("\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00", 13);
  return jpeg;
}

// A TIFF header and IFD0 with a first entry of another tag (0x010f, Make) and then `entry`.
std::string Tiff(bool little, const std::string& entry_big_endian) {
  auto order = [&](std::string field) {  // Reverses each 2- or 4-byte field for "II".
    if (little) std::reverse(field.begin(), field.end());
    return field;
  };
  const std::string& e = entry_big_endian;
  std::string t = little ? "II" : "MM";
  t += order(std::string("\0\x2a", 2)) + order(std::string("\0\0\0\x08", 4)) + order(std::string("\0\x02", 2));
  t += order(std::string("\x01\x0f", 2)) + order(std::string("\0\x02", 2)) + order(std::string("\0\0\0\x04", 4)) +
       std::string("abc\0", 4);
  // A SHORT value sits in the first two bytes of the value field, in the file's byte order.
  t += order(e.substr(0, 2)) + order(e.substr(2, 2)) + order(e.substr(4, 4)) + order(e.substr(8, 2)) + e.substr(10, 2);
  return t + std::string(4, '\0');
}

std::string OrientationEntry(char value) { return std::string("\x01\x12\0\x03\0\0\0\x01\0", 9) + value + std::string(2, '\0'); }

TEST(JpegExifOrientation, ReadsTheTagInBothByteOrders) {
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(Tiff(false, OrientationEntry(6)))), 6);
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(Tiff(true, OrientationEntry(8)))), 8);
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(Tiff(true, OrientationEntry(3)))), 3);
}

// Written by PIL (tests/fuzz/make_corpus.py jpeg_turned): a JFIF APP0 segment first, then the EXIF block.
TEST(JpegExifOrientation, ReadsTheTagPilWrote) {
  EXPECT_EQ(JpegExifOrientation(ReadFile(testing::SourcePath("tests/fuzz/corpus/image_header/seed-turned.jpg"))), 6);
  EXPECT_EQ(JpegExifOrientation(ReadFile(testing::SourcePath("tests/fuzz/corpus/image_header/seed-small.jpg"))), 1);
}

TEST(JpegExifOrientation, AnythingElseIsAsStored) {
  const std::string good = JpegWithTiff(Tiff(false, OrientationEntry(6)));
  EXPECT_EQ(JpegExifOrientation(""), 1);
  EXPECT_EQ(JpegExifOrientation("\x89PNG\r\n\x1a\n"), 1);
  EXPECT_EQ(JpegExifOrientation(std::string("\xff\xd8\xff\xc0\x00\x0b", 6)), 1) << "no EXIF before the frame";
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(Tiff(false, OrientationEntry(9)))), 1) << "not an orientation";
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(Tiff(false, OrientationEntry(0)))), 1);
  std::string long_type = Tiff(false, OrientationEntry(6));
  long_type[8 + 2 + 12 + 3] = 4;  // The entry says LONG, not SHORT.
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(long_type)), 1);
  std::string far_ifd = Tiff(true, OrientationEntry(6));
  far_ifd[4] = char(0xf0);  // IFD0 beyond the block.
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(far_ifd)), 1);
  std::string many_entries = Tiff(false, OrientationEntry(6));
  many_entries[9] = char(0xff);  // 255 entries claimed, 2 there: the tag is found before the end.
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(many_entries)), 6);
  many_entries = Tiff(false, std::string("\x01\x13\0\x03\0\0\0\x01\0\x06\0\0", 12));  // Another tag.
  many_entries[9] = char(0xff);
  EXPECT_EQ(JpegExifOrientation(JpegWithTiff(many_entries)), 1) << "stops at the end of the block";
  // Every cut of the file short of the entry's value reads as stored, never past the bytes.
  const size_t value_end = 4 + 2 + 6 + 8 + 2 + 12 + 12;  // SOI, APP1 header, Exif, TIFF header, count, 2 entries.
  for (size_t n = 0; n < value_end; ++n) EXPECT_EQ(JpegExifOrientation(std::string_view(good.data(), n)), 1) << n;
  EXPECT_EQ(JpegExifOrientation(std::string_view(good.data(), value_end)), 6);
}

}  // namespace
}  // namespace segtune
