// RegularFilesAmong must answer as std::filesystem::is_regular_file does for every path, whichever
// way it finds out (a folder listing, or stat for links, odd names, small or huge folders).
#include "segtune/core/file_presence.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

void Touch(const fs::path& path) { std::ofstream(path) << "x"; }

std::vector<std::string> Texts(const std::vector<fs::path>& paths) {
  std::vector<std::string> texts;
  for (const auto& p : paths) texts.push_back(p.native());
  return texts;
}

void ExpectAsIsRegularFile(const std::vector<fs::path>& paths) {
  const std::vector<char> present = RegularFilesAmong(Texts(paths));
  ASSERT_EQ(present.size(), paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    std::error_code ec;
    EXPECT_EQ(present[i] != 0, fs::is_regular_file(paths[i], ec)) << paths[i];
  }
}

TEST(RegularFilesAmong, AgreesWithIsRegularFileOnFilesLinksFoldersAndMissingNames) {
  TempDir dir;
  const fs::path images = dir.path() / "images";
  fs::create_directories(images / "sub");
  std::vector<fs::path> paths;
  for (int i = 0; i < 40; ++i) {
    const fs::path file = images / ("img" + std::to_string(i) + ".jpg");
    if (i % 3 != 0) Touch(file);  // Every third one is missing.
    paths.push_back(file);
  }
  fs::create_symlink(images / "img1.jpg", images / "link.jpg");
  fs::create_symlink(images / "img0.jpg", images / "dangling.jpg");
  fs::create_symlink(images / "sub", images / "dir-link.jpg");
  for (const char* name : {"link.jpg", "dangling.jpg", "dir-link.jpg", "sub", ".", "..", "none.png"}) {
    paths.push_back(images / name);
  }
  paths.push_back(images / "." / "img1.jpg");        // Another spelling of the folder.
  paths.push_back(images / "sub" / ".." / "img2.jpg");
  paths.push_back(images / "img1.jpg" / "x.jpg");    // Under a file.
  paths.push_back(dir.path() / "nowhere" / "a.jpg");  // Folder missing.
  paths.push_back(images / "");                      // No file name.
  ExpectAsIsRegularFile(paths);
  const std::vector<char> present = RegularFilesAmong(Texts(paths));
  EXPECT_EQ(present[1], 1);
  EXPECT_EQ(present[0], 0);
}

TEST(RegularFilesAmong, RelativePathsAreRelativeToTheCurrentDirectory) {
  TempDir dir;
  const fs::path saved = fs::current_path();
  fs::current_path(dir.path());
  std::vector<fs::path> paths;
  for (int i = 0; i < 20; ++i) {
    if (i % 2) Touch("f" + std::to_string(i));
    paths.emplace_back("f" + std::to_string(i));
  }
  const std::vector<char> present = RegularFilesAmong(Texts(paths));
  fs::current_path(saved);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(present[size_t(i)], i % 2) << i;
}

TEST(RegularFilesAmong, AFolderFarLargerThanThePathsInItIsNotListedButStillAnswered) {
  TempDir dir;
  for (int i = 0; i < 4400; ++i) Touch(dir.path() / ("n" + std::to_string(i)));
  std::vector<fs::path> paths;
  for (int i = 0; i < 16; ++i) paths.push_back(dir.path() / ("n" + std::to_string(i * 500)));
  for (int i = 0; i < 4; ++i) paths.push_back(dir.path() / ("gone" + std::to_string(i)));
  ExpectAsIsRegularFile(paths);
  EXPECT_EQ(RegularFilesAmong(Texts(paths))[0], 1);
}

TEST(RegularFilesAmong, NoPathsNoAnswers) { EXPECT_TRUE(RegularFilesAmong(std::vector<std::string>{}).empty()); }

TEST(RegularFilesAmong, PathsInTheRootFolderAndWithDoubledSlashes) {
  TempDir dir;
  for (int i = 0; i < 20; ++i) Touch(dir.path() / ("f" + std::to_string(i)));
  std::vector<std::string> paths = {"/", "/proc", "/nonexistent-segtune-file"};
  for (int i = 0; i < 20; ++i) paths.push_back(dir.path().native() + "//f" + std::to_string(i));
  const std::vector<char> present = RegularFilesAmong(paths);
  for (size_t i = 0; i < paths.size(); ++i) {
    std::error_code ec;
    EXPECT_EQ(present[i] != 0, fs::is_regular_file(paths[i], ec)) << paths[i];
  }
  EXPECT_EQ(present[3], 1);
}

}  // namespace
}  // namespace segtune
