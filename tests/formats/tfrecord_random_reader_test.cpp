#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::TempDir;

// Locations of every record as the sequential reader reports them.
std::vector<TFRecordLocation> Index(const std::filesystem::path& path) {
  std::vector<TFRecordLocation> out;
  TFRecordReader reader(path);
  for (std::string r; reader.Next(&r);) out.push_back({reader.record_offset(), r.size(), reader.record_index()});
  return out;
}

void WriteRecords(const std::filesystem::path& path, const std::vector<std::string>& records) {
  TFRecordWriter writer(path);
  for (const auto& r : records) writer.Write(r);
  writer.Close();
}

TEST(TFRecordRandomReader, ReadsEachRecordAtItsIndexedOffsetInAnyOrder) {
  TempDir dir;
  const std::vector<std::string> records{"first", std::string(70000, 'x') + "big", "", "last"};
  WriteRecords(dir / "r.record", records);
  const auto where = Index(dir / "r.record");
  ASSERT_EQ(where.size(), records.size());
  TFRecordRandomReader file(dir / "r.record");
  for (size_t i : {3u, 0u, 2u, 1u, 3u}) EXPECT_EQ(file.Read(where[i]), records[i]) << "record " << i;
}

TEST(TFRecordRandomReader, ThreadsShareOneReader) {
  TempDir dir;
  std::vector<std::string> records;
  for (int i = 0; i < 50; ++i) records.push_back(std::string(1000 + i, char('a' + i % 26)));
  WriteRecords(dir / "r.record", records);
  const auto where = Index(dir / "r.record");
  TFRecordRandomReader file(dir / "r.record");
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 200; ++k) {
        const size_t i = static_cast<size_t>((k * 7 + t * 13) % 50);
        if (file.Read(where[i]) != records[i]) ++wrong[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(TFRecordRandomReader, ReportsChangedDataWithFileRecordAndOffset) {
  TempDir dir;
  WriteRecords(dir / "r.record", {"alpha", "bravo"});
  const auto where = Index(dir / "r.record");
  {
    std::fstream f(dir / "r.record", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(where[1].offset + kTFRecordHeaderBytes));
    f.write("X", 1);
  }
  TFRecordRandomReader file(dir / "r.record");
  EXPECT_EQ(file.Read(where[0]), "alpha");
  try {
    file.Read(where[1]);
    FAIL() << "expected a CRC mismatch";
  } catch (const FormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("r.record"), std::string::npos) << message;
    EXPECT_NE(message.find("record 1 at byte " + std::to_string(where[1].offset)), std::string::npos) << message;
    EXPECT_NE(message.find("CRC"), std::string::npos) << message;
  }
}

TEST(TFRecordRandomReader, ReportsATruncatedFile) {
  TempDir dir;
  WriteRecords(dir / "r.record", {"alpha", "bravo"});
  const auto where = Index(dir / "r.record");
  std::filesystem::resize_file(dir / "r.record", where[1].offset + kTFRecordHeaderBytes + 2);
  TFRecordRandomReader file(dir / "r.record");
  EXPECT_THROW(file.Read(where[1]), FormatError);
}

TEST(TFRecordRandomReader, MissingFileIsAnIoError) {
  TempDir dir;
  EXPECT_THROW(TFRecordRandomReader(dir / "nope.record"), IoError);
}

}  // namespace
}  // namespace segtune
