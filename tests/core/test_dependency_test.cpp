// SEGTUNE_REQUIRE_TEST_DEPENDENCY (tests/test_util.h): a missing test-only dependency skips the test on
// a developer's machine but fails it under CI=true, so CI cannot pass by silently checking less.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "test_util.h"

namespace {

void RequireAbsentDependency() { SEGTUNE_REQUIRE_TEST_DEPENDENCY(false, "onnxruntime-node is absent"); }

// Restores CI after the test (ctest may itself run under CI=true).
class CiVariable : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ci = std::getenv("CI");
    had_ = ci != nullptr;
    if (had_) old_ = ci;
  }
  void TearDown() override {
    if (had_) setenv("CI", old_.c_str(), 1);
    else unsetenv("CI");
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST_F(CiVariable, MissingDependencyFailsUnderCi) {
  setenv("CI", "true", 1);
  EXPECT_FATAL_FAILURE(RequireAbsentDependency(), "onnxruntime-node is absent (a missing test dependency fails under CI=true)");
}

TEST_F(CiVariable, OnlyCiTrueCountsAsCi) {
  unsetenv("CI");
  EXPECT_FALSE(segtune::testing::InCi());
  setenv("CI", "false", 1);
  EXPECT_FALSE(segtune::testing::InCi());
  setenv("CI", "true", 1);
  EXPECT_TRUE(segtune::testing::InCi());
}

TEST(TestDependency, PresentDependencyRunsTheTest) {
  bool ran = false;
  [&] {
    SEGTUNE_REQUIRE_TEST_DEPENDENCY(true, "never shown");
    ran = true;
  }();
  EXPECT_TRUE(ran);
}

}  // namespace
