#include "segtune/formats/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace segtune {
namespace {

TEST(Crc32c, MatchesCastagnoliCheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32c, ExtendEqualsWholeBuffer) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(char(i * 7 + 3));
  const uint32_t whole = Crc32c(data);
  for (size_t split : {size_t(0), size_t(1), size_t(9), size_t(500), size_t(999)}) {
    const uint32_t first = Crc32cExtend(0, data.data(), split);
    EXPECT_EQ(Crc32cExtend(first, data.data() + split, data.size() - split), whole) << split;
  }
}

TEST(Crc32c, MaskOfEmptyMatchesFormatsVector) { EXPECT_EQ(MaskCrc(Crc32c("")), 0xa282ead8u); }

TEST(Crc32c, UnmaskInvertsMask) {
  for (uint32_t c : {0u, 1u, 0xE3069283u, 0xffffffffu, 0x12345678u}) EXPECT_EQ(UnmaskCrc(MaskCrc(c)), c);
}

}  // namespace
}  // namespace segtune
