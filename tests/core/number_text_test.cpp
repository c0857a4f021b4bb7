#include "segtune/core/number_text.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace segtune {
namespace {

TEST(ParseFiniteDouble, ReadsWhatAnnotationFilesWrite) {
  const struct {
    const char* text;
    double value;
  } good[] = {{"18.43", 18.43}, {"0", 0}, {"-3.5", -3.5}, {"+2", 2}, {" 7 ", 7}, {"\t1e3", 1000}, {"5.", 5},
              {".25", 0.25}, {"1E-2", 0.01}};
  for (const auto& g : good) {
    double v = -1;
    EXPECT_TRUE(ParseFiniteDouble(g.text, &v)) << g.text;
    EXPECT_DOUBLE_EQ(v, g.value) << g.text;
  }
}

TEST(ParseFiniteDouble, RefusesWhatIsNotOneFiniteNumber) {
  for (const char* bad : {"", " ", "+", "-", "+-1", "++1", "1.5x", "1,5", "1 2", "inf", "-inf", "nan", "1e999",
                          "0x10", "--1"}) {
    double v = 0;
    EXPECT_FALSE(ParseFiniteDouble(bad, &v)) << "'" << bad << "'";
  }
}

std::string ToChars(double value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

std::string Shortest(double value) {
  char text[32];
  return std::string(text, WriteShortestDouble(text, value));
}

// The fast case (a few decimals) and the general one, against the reference: std::to_chars.
TEST(NumberText, ShortestDoubleMatchesToChars) {
  std::mt19937_64 random(7);
  std::vector<double> values{0.001, 0.0010000001, 0.000999, 1e-3 * (1 - 1e-16), 99999.999999, 1e5, 1e5 - 1e-6,
                             10000, 50000, 12000, 0.1 + 0.2, 1.0 / 3, 9.9999999999999, 0, -0.0, 123456789.5,
                             1e-7, 5e-324, 1.7976931348623157e308, 2.5, 18.43, 0.05, 0.005, 0.0005};
  for (int i = 0; i < 300000; ++i) {
    const int decimals = static_cast<int>(random() % 8);          // 7: more than the fast case takes.
    const double scale = std::pow(10.0, decimals);
    const auto whole = static_cast<double>(random() % 200000000);  // Up to 2e8 / scale.
    values.push_back(whole / scale);
    values.push_back(-whole / scale);
    double bits;
    const uint64_t raw = random();
    std::memcpy(&bits, &raw, sizeof bits);
    if (std::isfinite(bits)) values.push_back(bits);
    values.push_back(std::ldexp(static_cast<double>(random() % 1000000), -static_cast<int>(random() % 30)));
  }
  int mismatches = 0;
  for (const double v : values) {
    if (Shortest(v) != ToChars(v) && ++mismatches <= 10) ADD_FAILURE() << Shortest(v) << " != " << ToChars(v);
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(Shortest(18.43), "18.43");  // The fast case's shape.
  EXPECT_EQ(Shortest(-0.0125), "-0.0125");
  EXPECT_EQ(Shortest(40), "40");
}

}  // namespace
}  // namespace segtune
