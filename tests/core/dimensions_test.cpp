// "AxB" size options (export/inspect --input-size HEIGHTxWIDTH, synth --size WIDTHxHEIGHT): one parser.
#include "segtune/core/dimensions.h"

#include <gtest/gtest.h>

#include "segtune/core/error.h"
#include "test_util.h"

namespace {

using segtune::ParseTwoDimensions;

TEST(Dimensions, ParsesBothSidesInTheOrderWritten) {
  EXPECT_EQ(ParseTwoDimensions("320x480", "--input-size", "HEIGHTxWIDTH", 16384), std::make_pair(int64_t(320), int64_t(480)));
  EXPECT_EQ(ParseTwoDimensions("7X9", "--size", "WIDTHxHEIGHT", 16384), std::make_pair(int64_t(7), int64_t(9)));
}

TEST(Dimensions, RejectsMalformedZeroAndOutOfRangeNamingTheOptionAndForm) {
  for (const std::string text : {"", "x", "5", "5x", "x5", "5x5x5", "-5x5", "5x-5", "+5x5", "5 x5", "0x5", "5x0",
                                 "16385x5", "99999999999999999999x5", "5x99999999999999999999"}) {
    try {
      ParseTwoDimensions(text, "--input-size", "HEIGHTxWIDTH", 16384);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const segtune::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--input-size " + text + ": expected HEIGHTxWIDTH with each side 1 to 16384"),
                std::string::npos)
          << e.what();
    }
  }
}

// Before: std::stoll's out_of_range escaped as "unexpected failure: stoll" (exit 1).
TEST(Dimensions, ExportNamesTheOptionForAnOverflowingSize) {
  segtune::testing::TempDir dir;
  const auto r = segtune::testing::RunSegtune("export --checkpoint '" + (dir / "none.pth").string() + "' -o '" +
                                              (dir / "out").string() + "' --input-size 99999999999999999999x5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--input-size 99999999999999999999x5: expected HEIGHTxWIDTH"), std::string::npos) << r.output;
}

}  // namespace
