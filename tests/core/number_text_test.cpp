#include "segtune/core/number_text.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace segtune
