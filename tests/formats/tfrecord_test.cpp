#include "segtune/formats/tfrecord.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/crc32c.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::TempDir;

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(char(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

void WriteRaw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Writes records "record-0", "record-1", ... and returns the file bytes.
std::string WriteNumbered(const std::filesystem::path& path, int n) {
  TFRecordWriter writer(path);
  for (int i = 0; i < n; ++i) writer.Write("record-" + std::to_string(i));
  writer.Close();
  return ReadFile(path);
}

TEST(TFRecordWriter, MatchesFormatsTestVector) {
  TempDir dir;
  TFRecordWriter writer(dir / "a.record");
  writer.Write(FromHex("0a0c0a0a0a016112051a030a0101"));
  writer.Close();
  EXPECT_EQ(ReadFile(dir / "a.record"), FromHex("0e00000000000000c5e5693f0a0c0a0a0a016112051a030a010139e87850"));
}

TEST(TFRecordWriter, NothingAppearsUntilClose) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "a.record");
    writer.Write("x");
    EXPECT_FALSE(std::filesystem::exists(dir / "a.record"));
  }  // Destroyed without Close(): discarded.
  EXPECT_FALSE(std::filesystem::exists(dir / "a.record"));
}

TEST(TFRecordWriter, AppendableWriterIsReadableAfterEachWrite) {
  TempDir dir;
  auto writer = TFRecordWriter::OpenAppendable(dir / "events");
  writer->Write("first");
  EXPECT_EQ(ReadAllRecords(dir / "events"), std::vector<std::string>{"first"});
  writer->Write("second");
  EXPECT_EQ(ReadAllRecords(dir / "events"), (std::vector<std::string>{"first", "second"}));
  writer->Close();
}

// Records are gathered and written 1 MiB at a time: records on both sides of that size, and framed
// ones, must come back whole and in order.
TEST(TFRecordWriter, RecordsSmallerAndLargerThanItsWriteChunkComeBackInOrder) {
  TempDir dir;
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) {
    const size_t size = i % 7 == 3 ? (3u << 20) + size_t(i) : size_t(1000 + 30011 * i);
    records.emplace_back(size, char('a' + i % 26));
  }
  TFRecordWriter writer(dir / "a.record");
  for (size_t i = 0; i < records.size(); ++i) {
    if (i % 2 == 0) {
      writer.Write(records[i]);
    } else {
      std::string framed(kTFRecordHeaderBytes, '\0');
      framed += records[i];
      FinishTFRecordFrame(&framed);
      writer.WriteFramed(framed);
    }
  }
  writer.Close();
  EXPECT_EQ(writer.records_written(), 40);
  EXPECT_EQ(ReadAllRecords(dir / "a.record"), records);
}

TEST(TFRecordReader, ReadsBackWhatWasWritten) {
  TempDir dir;
  WriteNumbered(dir / "a.record", 5);
  TFRecordReader reader(dir / "a.record");
  std::string record;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(reader.Next(&record));
    EXPECT_EQ(record, "record-" + std::to_string(i));
    EXPECT_EQ(reader.record_index(), i);
  }
  EXPECT_FALSE(reader.Next(&record));
}

TEST(TFRecordReader, EmptyFileHasNoRecords) {
  TempDir dir;
  WriteRaw(dir / "empty", "");
  EXPECT_TRUE(ReadAllRecords(dir / "empty").empty());
}

TEST(TFRecordReader, ReportsCrcMismatchWithRecordIndex) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 4);
  const size_t record_size = 12 + 8 + 4;  // "record-N" is 8 bytes.
  bytes[2 * record_size + 12 + 3] ^= 0x01;  // A data byte of record 2.
  WriteRaw(dir / "a.record", bytes);
  try {
    ReadAllRecords(dir / "a.record");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("record 2 at byte 48"), std::string::npos) << message;
    EXPECT_NE(message.find("data CRC mismatch"), std::string::npos) << message;
    EXPECT_NE(message.find("a.record"), std::string::npos) << message;
  }
}

TEST(TFRecordReader, ReportsTruncationWithOffset) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 3);
  WriteRaw(dir / "a.record", bytes.substr(0, bytes.size() - 6));  // Cut inside record 2's data.
  try {
    ReadAllRecords(dir / "a.record");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("record 2 at byte 48"), std::string::npos) << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
    EXPECT_NE(message.find("the file ends at byte 66"), std::string::npos) << message;
  }
}

TEST(TFRecordReader, ReportsCorruptLengthHeader) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 3);
  bytes[24 + 1] ^= 0x40;  // Length field of record 1.
  WriteRaw(dir / "a.record", bytes);
  EXPECT_THROW(
      {
        try {
          ReadAllRecords(dir / "a.record");
        } catch (const FormatError& e) {
          EXPECT_NE(std::string(e.what()).find("record 1 at byte 24: length CRC mismatch"), std::string::npos)
              << e.what();
          throw;
        }
      },
      FormatError);
}

// issue 18 item 12: a length of 2^64-1 (with a valid CRC) was reported as "record of -1 bytes".
TEST(TFRecordReader, HugeLengthIsPrintedUnsignedWithFileAndOffset) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 1);
  std::string header(8, '\xff');
  const uint32_t crc = MaskCrc(Crc32c(header));
  for (int i = 0; i < 4; ++i) header.push_back(char((crc >> (8 * i)) & 0xff));
  WriteRaw(dir / "a.record", bytes + header + "tail");
  try {
    ReadAllRecords(dir / "a.record");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "a.record").string() + ": record 1 at byte 24: truncated: record of "
                                         "18,446,744,073,709,551,615 bytes"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("-1 bytes"), std::string::npos) << e.what();
  }
}

TEST(TFRecordReader, SkipCorruptContinuesPastBadData) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 4);
  bytes[1 * 24 + 12 + 2] ^= 0x10;  // Data of record 1.
  WriteRaw(dir / "a.record", bytes);
  TFRecordReader reader(dir / "a.record", {/*skip_corrupt=*/true});
  std::vector<std::string> got;
  for (std::string r; reader.Next(&r);) got.push_back(r);
  EXPECT_EQ(got, (std::vector<std::string>{"record-0", "record-2", "record-3"}));
  ASSERT_EQ(reader.problems().size(), 1u);
  EXPECT_NE(reader.problems()[0].find("record 1"), std::string::npos);
}

TEST(TFRecordReader, SkipCorruptResyncsAfterBadLengthHeader) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 4);
  bytes[1 * 24 + 0] ^= 0x7f;  // Length of record 1.
  WriteRaw(dir / "a.record", bytes);
  TFRecordReader reader(dir / "a.record", {/*skip_corrupt=*/true});
  std::vector<std::string> got;
  for (std::string r; reader.Next(&r);) got.push_back(r);
  EXPECT_EQ(got, (std::vector<std::string>{"record-0", "record-2", "record-3"}));
  EXPECT_EQ(reader.problems().size(), 1u);
}

TEST(TFRecordReader, SkipCorruptStopsAtTruncationWithReport) {
  TempDir dir;
  std::string bytes = WriteNumbered(dir / "a.record", 3);
  WriteRaw(dir / "a.record", bytes.substr(0, bytes.size() - 2));
  TFRecordReader reader(dir / "a.record", {/*skip_corrupt=*/true});
  int n = 0;
  for (std::string r; reader.Next(&r);) ++n;
  EXPECT_EQ(n, 2);
  ASSERT_EQ(reader.problems().size(), 1u);
  EXPECT_NE(reader.problems()[0].find("truncated"), std::string::npos);
}

TEST(TFRecordReader, ReadsZlibCompressedFile) {
  TempDir dir;
  const std::string plain = WriteNumbered(dir / "plain", 3);
  const std::string packed = testing::ZlibCompressed(plain);
  WriteRaw(dir / "z.record", packed);
  TFRecordReader reader(dir / "z.record");
  EXPECT_TRUE(reader.compressed());
  std::vector<std::string> got;
  for (std::string r; reader.Next(&r);) got.push_back(r);
  EXPECT_EQ(got, (std::vector<std::string>{"record-0", "record-1", "record-2"}));
}

TEST(ShardPath, FormatsLikeTensorFlow) { EXPECT_EQ(ShardPath("out/train", 2, 4), "out/train-00002-of-00004"); }

TEST(ExpandInputPaths, HandlesAtNGlobsCommasAndImplicitShards) {
  TempDir dir;
  const std::string prefix = (dir / "train").string();
  for (int i = 0; i < 3; ++i) WriteRaw(ShardPath(prefix, i, 3), "");
  WriteRaw(dir / "val.record", "");
  EXPECT_EQ(ExpandInputPaths(prefix + "@3").size(), 3u);
  EXPECT_EQ(ExpandInputPaths(prefix + "-?????" "-of-00003").size(), 3u);
  EXPECT_EQ(ExpandInputPaths(prefix).size(), 3u);  // Implicit shards.
  const auto both = ExpandInputPaths(prefix + "-00001-of-00003," + (dir / "val.record").string());
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1], dir / "val.record");
  EXPECT_THROW(ExpandInputPaths((dir / "missing*").string()), IoError);
  EXPECT_THROW(ExpandInputPaths(prefix + "@4"), IoError);
}

}  // namespace
}  // namespace segtune
