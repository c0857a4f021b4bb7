#include "segtune/core/split_text.h"

#include <gtest/gtest.h>

namespace segtune {
namespace {

using Strings = std::vector<std::string>;

TEST(SplitFields, KeepsEveryFieldInItsPlaceIncludingEmptyOnes) {
  EXPECT_EQ(SplitFields("background,,cat"), (Strings{"background", "", "cat"}));
  EXPECT_EQ(SplitFields(" a ,b"), (Strings{" a ", "b"}));  // Verbatim: spaces are part of a name.
  EXPECT_EQ(SplitFields(""), (Strings{""}));
  EXPECT_EQ(SplitFields(","), (Strings{"", ""}));
}

TEST(SplitNameList, TrimsItemsAndDropsBlankOnes) {
  EXPECT_EQ(SplitNameList(" bottle, can ,,\tcap\t"), (Strings{"bottle", "can", "cap"}));
  EXPECT_EQ(SplitNameList(" , "), Strings{});
  EXPECT_EQ(SplitNameList(""), Strings{});
  EXPECT_EQ(SplitNameList("glass bottle"), (Strings{"glass bottle"}));  // Inner spaces stay.
}

}  // namespace
}  // namespace segtune
