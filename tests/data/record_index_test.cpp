#include "segtune/data/record_index.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

// Writes records "<prefix>0", "<prefix>1", ... and returns the file's bytes.
std::string WriteRecords(const std::filesystem::path& path, const std::string& prefix, int n) {
  {
    TFRecordWriter writer(path);
    for (int i = 0; i < n; ++i) writer.Write(prefix + std::to_string(i));
    writer.Close();
  }
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(RecordIndex, SamplesEveryNthRecordAcrossFilesUpToMaxExamples) {
  TempDir dir;
  WriteRecords(dir / "a.record", "a", 3);
  WriteRecords(dir / "b.record", "b", 4);
  // Records in order a0 a1 a2 b0 b1 b2 b3; every 2nd: a0 a2 b1 b3; the first 3 of those.
  RecordIndex index({dir / "a.record", dir / "b.record"}, /*max_examples=*/3, /*sample_1_of_n=*/2);
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Read(0), "a0");
  EXPECT_EQ(index.Read(1), "a2");
  EXPECT_EQ(index.Read(2), "b1");
  EXPECT_EQ(index.SourceOf(2), (dir / "b.record").string() + ": record 1");
}

TEST(RecordIndex, ReadsCompressedFilesFromMemory) {
  TempDir dir;
  const std::string plain = WriteRecords(dir / "plain.record", "z", 3);
  const std::string packed = testing::ZlibCompressed(plain);
  std::ofstream(dir / "z.record", std::ios::binary) << packed;
  RecordIndex index({dir / "z.record"}, 0, 1);
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Read(2), "z2");
  EXPECT_EQ(index.SourceOf(0), (dir / "z.record").string() + ": record 0");
}

TEST(RecordIndex, ACorruptRecordFailsWhenIndexingNamingTheFile) {
  TempDir dir;
  std::string bytes = WriteRecords(dir / "a.record", "a", 2);
  bytes[bytes.size() - 5] ^= 0x40;  // Inside the last record's data: its CRC no longer matches.
  std::ofstream(dir / "a.record", std::ios::binary | std::ios::trunc) << bytes;
  try {
    RecordIndex index({dir / "a.record"}, 0, 1);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("a.record"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace segtune
