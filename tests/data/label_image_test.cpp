// data/convert/label_image.h's ReadIndexMask on PNGs built byte by byte (tests/png_builder.h): palette
// indices as stored, also where two entries share a colour; interlaced palette PNGs through OpenCV.
#include "segtune/data/convert/label_image.h"

#include <gtest/gtest.h>

#include "png_builder.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/png_decode.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::MakePng;
using testing::TempDir;

const std::string kBlackRedRed("\0\0\0\xff\0\0\xff\0\0", 9);    // Entries 1 and 2 are the same red.
const std::string kBlackRedGreen("\0\0\0\xff\0\0\0\xff\0", 9);

std::vector<int32_t> ReadValues(const TempDir& dir, const std::string& png) {
  WriteFileAtomic(dir / "mask.png", png);
  return ReadIndexMask(dir / "mask.png", false).values;
}

TEST(ReadIndexMask, PaletteIndicesAsStoredEvenWhereTwoEntriesShareAColour) {
  TempDir dir;
  // One row, filter 0, indices 1, 2, 0, 2 (8-bit).
  const std::string png = MakePng({4, 1, 3, 8, 0, kBlackRedRed}, std::string("\0\x01\x02\0\x02", 5));
  EXPECT_EQ(ReadValues(dir, png), (std::vector<int32_t>{1, 2, 0, 2}));
}

TEST(ReadIndexMask, LowBitGrayAsStored) {
  TempDir dir;
  // 1-bit gray: 10100000 -> 1, 0, 1 (libpng would widen 1 to 255).
  EXPECT_EQ(ReadValues(dir, MakePng({3, 1, 0, 1}, std::string("\0\xa0", 2))), (std::vector<int32_t>{1, 0, 1}));
}

TEST(ReadIndexMask, InterlacedPalettePngsGoThroughTheirColours) {
  TempDir dir;
  // 2x1 Adam7: pixel (0, 0) is pass 1's only scanline, pixel (1, 0) pass 6's; the other passes are empty.
  const std::string png = MakePng({2, 1, 3, 8, 1, kBlackRedGreen}, std::string("\0\x02\0\x01", 4));
  EXPECT_EQ(ReadValues(dir, png), (std::vector<int32_t>{2, 1}));
  EXPECT_EQ(ReadPngPalette(png, "p.png", ""), (std::vector<uint32_t>{0x000000, 0xff0000, 0x00ff00}));
}

TEST(ReadIndexMask, SixteenBitGrayOnlyWhenAllowedAndRgbNever) {
  TempDir dir;
  const std::string gray16 = MakePng({1, 1, 0, 16}, std::string("\0\x01\x02", 3));
  WriteFileAtomic(dir / "g16.png", gray16);
  EXPECT_EQ(ReadIndexMask(dir / "g16.png", true).values, (std::vector<int32_t>{0x0102}));
  EXPECT_THROW(ReadIndexMask(dir / "g16.png", false), FormatError);
  WriteFileAtomic(dir / "rgb.png", MakePng({1, 1, 2, 8}, std::string("\0\x01\x02\x03", 4)));
  try {
    ReadIndexMask(dir / "rgb.png", false);
    ADD_FAILURE() << "an RGB PNG read as indices";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("3-channel image"), std::string::npos) << e.what();
  }
}

TEST(ReadPngPalette, NoPaletteIsEmptyAndACorruptPaletteIsAnError) {
  EXPECT_TRUE(ReadPngPalette(MakePng({1, 1, 0, 8}, std::string("\0\x07", 2)), "g.png", "").empty());
  std::string png = MakePng({1, 1, 3, 8, 0, kBlackRedGreen}, std::string("\0\x01", 2));
  png[8 + 25 + 8] ^= 1;  // A byte of PLTE's data: its CRC no longer matches.
  EXPECT_THROW(ReadPngPalette(png, "p.png", ""), FormatError);
}

}  // namespace
}  // namespace segtune
