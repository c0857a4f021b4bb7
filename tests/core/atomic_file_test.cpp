#include "segtune/core/atomic_file.h"

#include <gtest/gtest.h>

#include "segtune/core/error.h"
#include "segtune/core/progress.h"
#include "test_util.h"

namespace fs = std::filesystem;
using segtune::testing::TempDir;

TEST(AtomicFile, NothingAppearsUntilCommit) {
  TempDir dir;
  const fs::path out = dir / "sub/out.bin";
  {
    segtune::AtomicFile file(out);
    file.Write("hello");
    EXPECT_FALSE(fs::exists(out));
    file.Commit();
  }
  EXPECT_EQ(segtune::ReadFile(out), "hello");
}

TEST(AtomicFile, AbandonedWriteLeavesNoFiles) {
  TempDir dir;
  {
    segtune::AtomicFile file(dir / "out.bin");
    file.Write("partial");
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(AtomicFile, ReadMissingFileNamesThePath) {
  try {
    segtune::ReadFile("/nonexistent/x.json");
    FAIL();
  } catch (const segtune::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.json"), std::string::npos);
  }
}

TEST(AtomicFile, ReadFileIfExistsTellsMissingFromUnreadable) {
  TempDir dir;
  EXPECT_FALSE(segtune::ReadFileIfExists(dir / "missing.txt").has_value());
  EXPECT_FALSE(segtune::ReadFileIfExists(dir / "no/such/dir/x.txt").has_value());
  segtune::WriteFileAtomic(dir / "a.txt", std::string(100000, 'x') + "end");
  EXPECT_EQ(segtune::ReadFileIfExists(dir / "a.txt").value(), std::string(100000, 'x') + "end");
  segtune::WriteFileAtomic(dir / "empty.txt", "");
  EXPECT_EQ(segtune::ReadFileIfExists(dir / "empty.txt").value(), "");
  // A directory exists but is not a file: an error naming it, not "missing".
  try {
    segtune::ReadFileIfExists(dir.path());
    FAIL();
  } catch (const segtune::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
  }
}

// Files whose size fstat does not know (procfs reports 0) are read to their end.
TEST(AtomicFile, ReadsFilesWithoutAKnownSize) {
  const std::string status = segtune::ReadFile("/proc/self/status");
  EXPECT_NE(status.find("Name:"), std::string::npos);
  EXPECT_NE(status.find("VmRSS:"), std::string::npos);  // Far beyond any first read of a few bytes.
}

TEST(AtomicDirectory, ReplacesOnlyWhenCommitted) {
  TempDir dir;
  const fs::path out = dir / "export";
  fs::create_directories(out);
  segtune::WriteFileAtomic(out / "old.txt", "old");
  {
    segtune::AtomicDirectory d(out);
    segtune::WriteFileAtomic(d.temp_path() / "new.txt", "new");
  }  // Not committed: the old directory stays as it was.
  EXPECT_TRUE(fs::exists(out / "old.txt"));
  {
    segtune::AtomicDirectory d(out);
    segtune::WriteFileAtomic(d.temp_path() / "new.txt", "new");
    d.Commit();
  }
  EXPECT_FALSE(fs::exists(out / "old.txt"));
  EXPECT_EQ(segtune::ReadFile(out / "new.txt"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Progress, CountsAndFormatsDurations) {
  segtune::Progress p("test", 10, "img");
  p.Advance(3);
  p.Advance();
  EXPECT_EQ(p.count(), 4);
  p.Finish();
  EXPECT_EQ(segtune::FormatDuration(5.04), "5.0s");
  EXPECT_EQ(segtune::FormatDuration(185), "3m05s");
  EXPECT_EQ(segtune::FormatDuration(3720), "1h02m");
}
