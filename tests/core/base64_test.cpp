#include "segtune/core/base64.h"

#include <gtest/gtest.h>

namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648VectorsBothWays) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
                                                          {"foo", "Zm9v"},   {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                          {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, encoded] : vectors) {
    EXPECT_EQ(segtune::Base64Encode(raw), encoded);
    EXPECT_EQ(segtune::Base64Decode(encoded), std::string(raw));
  }
}

TEST(Base64, BinaryRoundTripsAndBadInputIsRefused) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(segtune::Base64Decode(segtune::Base64Encode(bytes)), bytes);
  EXPECT_EQ(segtune::Base64Decode("Zm9v\nYmFy"), std::string("foobar")) << "line breaks are skipped";
  EXPECT_EQ(segtune::Base64Decode("Zm9vYg"), std::string("foob")) << "padding is optional";
  EXPECT_FALSE(segtune::Base64Decode("Zm9v!"));
  EXPECT_FALSE(segtune::Base64Decode("Zg==Zg=="));
  EXPECT_FALSE(segtune::Base64Decode("Z"));
}

}  // namespace
