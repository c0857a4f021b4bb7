// Length fields are claims: a compressed TFRecord can say any length with a valid CRC (issue 18
// item 6). These tests hold the reader to what the bytes actually contain and to the record limit.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <fstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/crc32c.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::TempDir;

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(char(v >> (8 * i)));
  return out;
}

// A record header claiming `length` data bytes, with a valid length CRC.
std::string Header(uint64_t length) {
  std::string h = Le(length, 8);
  return h + Le(MaskCrc(Crc32c(h)), 4);
}

std::string Framed(const std::string& data) { return Header(data.size()) + data + Le(MaskCrc(Crc32c(data)), 4); }

std::string Zlib(const std::string& plain) {
  uLongf size = compressBound(plain.size());
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(plain.data()), plain.size(),
            9);
  packed.resize(size);
  return packed;
}

void WriteRaw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string NextError(TFRecordReader& reader) {
  std::string record;
  try {
    reader.Next(&record);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

// The bomb: ~100 compressed bytes whose first header claims 2 GB.
TEST(TFRecordLimits, CompressedLengthAboveLimitIsRejectedNamingLimitAndOption) {
  TempDir dir;
  WriteRaw(dir / "bomb.record", Zlib(Header(uint64_t(2) << 30) + std::string(64, 'x')));
  TFRecordReader reader(dir / "bomb.record");
  ASSERT_TRUE(reader.compressed());
  const std::string message = NextError(reader);
  EXPECT_NE(message.find("bomb.record: record 0 at byte 0"), std::string::npos) << message;
  EXPECT_NE(message.find("2,147,483,648 bytes is larger than the limit of 2^28 (268,435,456)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("--max-record-bytes"), std::string::npos) << message;
}

// With the limit raised past 4 GiB, a short stream claiming 2^33 bytes is reported as truncated (not
// as a CRC mismatch after a 32-bit wrap), and the buffer holds only what arrived.
TEST(TFRecordLimits, CompressedRecordBufferGrowsOnlyWithDecompressedBytes) {
  TempDir dir;
  WriteRaw(dir / "claim.record", Zlib(Header(uint64_t(1) << 33) + std::string(1000, 'y')));
  TFRecordReaderOptions options;
  options.max_record_bytes = uint64_t(1) << 40;
  options.skip_corrupt = true;
  TFRecordReader reader(dir / "claim.record", options);
  std::string record;
  EXPECT_FALSE(reader.Next(&record));
  ASSERT_EQ(reader.problems().size(), 1u);
  EXPECT_NE(reader.problems()[0].find("truncated: record of 8,589,934,592 bytes"), std::string::npos)
      << reader.problems()[0];
  EXPECT_LT(record.capacity(), size_t(64) << 20);
}

TEST(TFRecordLimits, SkipCorruptStreamsPastOversizedRecord) {
  TempDir dir;
  const std::string big(3000, 'b');  // Within 4x the limit: streamed past.
  WriteRaw(dir / "z.record", Zlib(Framed("first") + Framed(big) + Framed("third")));
  TFRecordReaderOptions options;
  options.max_record_bytes = 1000;
  options.skip_corrupt = true;
  TFRecordReader reader(dir / "z.record", options);
  std::vector<std::string> got;
  for (std::string r; reader.Next(&r);) got.push_back(r);
  EXPECT_EQ(got, (std::vector<std::string>{"first", "third"}));
  ASSERT_EQ(reader.problems().size(), 1u);
  EXPECT_NE(reader.problems()[0].find("record 1"), std::string::npos) << reader.problems()[0];
  EXPECT_NE(reader.problems()[0].find("limit of 1,000"), std::string::npos) << reader.problems()[0];
}

// The 2^33 bomb: skipping a record far above the limit would mean decompressing it (gigabytes
// of zeros); the reader stops reading the file instead, with one report saying so.
TEST(TFRecordLimits, SkipCorruptDoesNotInflateARecordFarAboveTheLimit) {
  TempDir dir;
  WriteRaw(dir / "z.record", Zlib(Framed("first") + Header(uint64_t(1) << 33) + std::string(1 << 20, '\0')));
  TFRecordReaderOptions options;
  options.max_record_bytes = 1000;
  options.skip_corrupt = true;
  TFRecordReader reader(dir / "z.record", options);
  std::vector<std::string> got;
  for (std::string r; reader.Next(&r);) got.push_back(r);
  EXPECT_EQ(got, std::vector<std::string>{"first"});
  ASSERT_EQ(reader.problems().size(), 1u);
  EXPECT_NE(reader.problems()[0].find("record 1 at byte 21: record of 8,589,934,592 bytes is larger than the limit"),
            std::string::npos)
      << reader.problems()[0];
  EXPECT_NE(reader.problems()[0].find("the rest of the file is not read"), std::string::npos) << reader.problems()[0];
}

// After a corrupt length header, the scan for the next intact header stops once it has passed the
// longest record the limit allows, instead of crawling through the rest of the stream.
TEST(TFRecordLimits, ResyncScanIsBoundedByTheRecordLimit) {
  TempDir dir;
  std::string bytes = Framed("first");
  bytes += "garbage-header";  // Not a valid header.
  bytes += std::string(8 << 20, '\0');
  bytes += Framed("far-away");
  WriteRaw(dir / "z.record", Zlib(bytes));
  TFRecordReaderOptions options;
  options.max_record_bytes = 4096;
  options.skip_corrupt = true;
  TFRecordReader reader(dir / "z.record", options);
  std::vector<std::string> got;
  for (std::string r; reader.Next(&r);) got.push_back(r);
  EXPECT_EQ(got, std::vector<std::string>{"first"});
  ASSERT_EQ(reader.problems().size(), 2u);
  EXPECT_NE(reader.problems()[1].find("no intact record header within 4,112 bytes"), std::string::npos)
      << reader.problems()[1];
}

// A zlib bomb of zeros: the resync scan over a long decompressed stream must take time proportional
// to its bound, not byte-by-byte inflate calls (it used to run for minutes).
TEST(TFRecordLimits, ResyncOverLongCompressedStreamIsFast) {
  TempDir dir;
  WriteRaw(dir / "zeros.record", Zlib("bad-header!!" + std::string(64 << 20, '\0')));
  TFRecordReaderOptions options;
  options.max_record_bytes = 16 << 20;
  options.skip_corrupt = true;
  const auto start = std::chrono::steady_clock::now();
  TFRecordReader reader(dir / "zeros.record", options);
  std::string record;
  EXPECT_FALSE(reader.Next(&record));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 3.0);
  EXPECT_EQ(reader.problems().size(), 2u);
}

TEST(TFRecordLimits, PlainLengthIsCheckedAgainstRemainingFileWithUnsignedText) {
  TempDir dir;
  WriteRaw(dir / "a.record", Header(UINT64_MAX) + "tail");
  TFRecordReader reader(dir / "a.record");
  const std::string message = NextError(reader);
  EXPECT_NE(message.find("a.record: record 0 at byte 0: truncated: record of 18,446,744,073,709,551,615 bytes"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace segtune
