#include "segtune/core/safe_name.h"

#include <gtest/gtest.h>

#include "segtune/core/printable.h"

namespace segtune {
namespace {

TEST(SanitizeFileName, KeepsPlainNames) {
  EXPECT_EQ(SanitizeFileName("000000397133.jpg"), "000000397133.jpg");
  EXPECT_EQ(SanitizeFileName("café bottle (2).png"), "café bottle (2).png");
}

TEST(SanitizeFileName, NeverLeavesTheDirectory) {
  EXPECT_EQ(SanitizeFileName("../../victim.txt"), "_.._victim.txt");
  EXPECT_EQ(SanitizeFileName("/some/dir/.bashrc"), "_some_dir_.bashrc");
  EXPECT_EQ(SanitizeFileName("..\\..\\x"), "_.._x");
  EXPECT_EQ(SanitizeFileName(".."), "file");
  EXPECT_EQ(SanitizeFileName("."), "file");
  EXPECT_EQ(SanitizeFileName("", "image"), "image");
}

TEST(SanitizeFileName, NoHiddenFilesNoOptionLikeNames) {
  EXPECT_EQ(SanitizeFileName(".bashrc"), "bashrc");
  EXPECT_EQ(SanitizeFileName("-rf.jpg"), "_rf.jpg");
}

TEST(SanitizeFileName, ReplacesControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(SanitizeFileName("a\nb\x1b[31m.jpg"), "a_b_[31m.jpg");
  EXPECT_EQ(SanitizeFileName(std::string("a\0b", 3)), "a_b");
  EXPECT_EQ(SanitizeFileName("a\xff\xc0\xafz"), "a___z");
  EXPECT_EQ(SanitizeFileName("a\xc2\x9b" "b"), "a_b");  // C1 CSI.
}

TEST(SanitizeFileName, CapsLengthKeepingExtensionAndUtf8) {
  const std::string name = SanitizeFileName(std::string(300, 'a') + ".jpg");
  EXPECT_EQ(name.size(), kMaxSafeNameBytes);
  EXPECT_EQ(name.substr(name.size() - 4), ".jpg");
  std::string wide;
  for (int i = 0; i < 200; ++i) wide += "é";  // 2 bytes each.
  const std::string cut = SanitizeFileName(wide + "x");
  EXPECT_LE(cut.size(), kMaxSafeNameBytes);
  EXPECT_EQ(cut.size() % 2, 0u);  // Never half a character.
}

TEST(SafeNamer, MakesCollisionsUniqueAndCountsRenames) {
  SafeNamer namer("test");
  EXPECT_EQ(namer.Name("a.jpg", "r0"), "a.jpg");
  EXPECT_EQ(namer.Name("a.jpg", "r1"), "a_2.jpg");
  EXPECT_EQ(namer.Name("a.jpg", "r2"), "a_3.jpg");
  EXPECT_EQ(namer.Name("../a.jpg", "r3"), "_a.jpg");  // Not in use yet.
  EXPECT_EQ(namer.renamed(), 3);
  namer.Reserve("b.png");
  EXPECT_EQ(namer.Name("b.png", "r4"), "b_2.png");
}

TEST(SafeNamer, ReportsRenameNamingTheSource) {
  SafeNamer namer("records export");
  ::testing::internal::CaptureStderr();
  namer.Name("../../victim.txt", "x.record: record 3");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("records export: x.record: record 3: \"../../victim.txt\" is unsafe as a file name; "
                     "written as _.._victim.txt"),
            std::string::npos)
      << err;
}

TEST(EscapeForTerminal, EscapesControlsKeepsUtf8) {
  EXPECT_EQ(EscapeForTerminal("conv.weight"), "conv.weight");
  EXPECT_EQ(EscapeForTerminal("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(EscapeForTerminal("line\nfake"), "line\\nfake");
  EXPECT_EQ(EscapeForTerminal("é\\"), "é\\\\");
  EXPECT_EQ(EscapeForTerminal("\xff"), "\\xff");
  EXPECT_EQ(EscapeForTerminal("\xc2\x9b"), "\\xc2\\x9b");
}

}  // namespace
}  // namespace segtune
