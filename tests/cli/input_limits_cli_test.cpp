// --skip-corrupt, --max-pixels and --max-record-bytes on the command line (issue 18 items 6, 7, 9),
// tested by running the built binary.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/example.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::RunSegtune;
using testing::TempDir;

std::string Png(int height, int width) {
  std::vector<uint8_t> bytes;
  cv::imencode(".png", cv::Mat(height, width, CV_8UC1, cv::Scalar(1)), bytes);
  return std::string(bytes.begin(), bytes.end());
}

// One record: a 20x30 PNG image, one box, and an instance mask `mask`.
std::string Record(const std::string& id, const std::string& mask) {
  tensorflow::Example e;
  SetBytes(&e, "image/encoded", Png(20, 30));
  SetBytes(&e, "image/format", "png");
  SetBytes(&e, "image/filename", "img_" + id + ".png");
  SetBytes(&e, "image/source_id", id);
  SetInt64(&e, "image/height", 20);
  SetInt64(&e, "image/width", 30);
  SetFloatList(&e, "image/object/bbox/xmin", {0.1f});
  SetFloatList(&e, "image/object/bbox/xmax", {0.5f});
  SetFloatList(&e, "image/object/bbox/ymin", {0.1f});
  SetFloatList(&e, "image/object/bbox/ymax", {0.5f});
  SetInt64List(&e, "image/object/class/label", {1});
  SetBytesList(&e, "image/object/mask", {mask});
  return e.SerializeAsString();
}

std::string Quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(InputLimitsCli, VerbsThatReadRecordsHaveSkipCorrupt) {
  for (const char* verb : {"train", "eval", "records export"}) {
    const auto r = RunSegtune(std::string(verb) + " --help");
    EXPECT_EQ(r.exit_code, 0) << verb << r.output;
    EXPECT_NE(r.output.find("--skip-corrupt"), std::string::npos) << verb << "\n" << r.output;
  }
  const auto r = RunSegtune("--help");
  EXPECT_NE(r.output.find("--max-pixels"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--max-record-bytes"), std::string::npos) << r.output;
}

// The hint in the error names an option that now exists, and it does what the hint says.
TEST(InputLimitsCli, RecordsExportSkipCorruptContinuesPastABadRecord) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "a.record");
    for (int i = 0; i < 3; ++i) writer.Write(Record(std::to_string(i + 1), Png(20, 30)));
    writer.Close();
  }
  std::string bytes = ReadFile(dir / "a.record");
  const size_t record_size = bytes.size() / 3;
  bytes[record_size + 20] ^= 0x55;  // Data of record 1.
  WriteFileAtomic(dir / "a.record", bytes);
  const std::string args = Quote(dir / "a.record") + " --images-dir " + Quote(dir / "images") + " -o " +
                           Quote(dir / "coco.json");
  const auto strict = RunSegtune("records export " + args);
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_NE(strict.output.find("a.record: record 1 at byte"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("rerun with --skip-corrupt"), std::string::npos) << strict.output;
  // The strict run exported record 0's image before it stopped: replacing it needs --overwrite.
  const auto skipping = RunSegtune("records export --skip-corrupt --overwrite " + args);
  EXPECT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("record 1 at byte"), std::string::npos) << skipping.output;
  EXPECT_NE(skipping.output.find("(skipped)"), std::string::npos) << skipping.output;
  EXPECT_NE(ReadFile(dir / "coco.json").find("img_3.png"), std::string::npos);
}

// records export used to print OpenCV's assertion text for an empty mask, with no file or record.
TEST(InputLimitsCli, RecordsExportNamesFileRecordAndKeyOfAnUndecodableMask) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "a.record");
    writer.Write(Record("1", Png(20, 30)));
    writer.Write(Record("2", ""));
    writer.Close();
  }
  const auto r = RunSegtune("records export " + Quote(dir / "a.record") + " --images-dir " + Quote(dir / "images") +
                            " -o " + Quote(dir / "coco.json"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("a.record: record 1: image/object/mask[0]: empty (0 bytes)"), std::string::npos) << r.output;
}

TEST(InputLimitsCli, MaxPixelsIsAppliedAndNamedInTheError) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "a.record");
    writer.Write(Record("1", Png(20, 30)));
    writer.Close();
  }
  const std::string args = "records export " + Quote(dir / "a.record") + " --images-dir " + Quote(dir / "images") +
                            " -o " + Quote(dir / "coco.json");
  EXPECT_EQ(RunSegtune(args).exit_code, 0);
  const auto r = RunSegtune("--max-pixels 500 " + args + " --overwrite");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("a.record: record 0: image/object/mask[0]: PNG header declares 30x20 pixels, above the "
                          "limit of 500 pixels"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--max-pixels"), std::string::npos) << r.output;
  EXPECT_EQ(RunSegtune(args + " --max-pixels 600 --overwrite").exit_code, 0);  // Also accepted after the verb.
}

// A 100-byte GZIP-less ZLIB file whose first header claims 2 GB: an error naming the limit, not 2 GB
// of memory.
TEST(InputLimitsCli, MaxRecordBytesBoundsCompressedRecords) {
  TempDir dir;
  std::string plain;
  {
    TFRecordWriter writer(dir / "plain.record");
    writer.Write(std::string(5000, 'x'));
    writer.Close();
    plain = ReadFile(dir / "plain.record");
  }
  uLongf size = compressBound(plain.size());
  std::string packed(size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(plain.data()), plain.size());
  packed.resize(size);
  WriteFileAtomic(dir / "z.record", packed);
  const auto r = RunSegtune("--max-record-bytes 4K records verify " + Quote(dir / "z.record"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("z.record: record 0 at byte 0: record of 5,000 bytes is larger than the limit of 2^12 "
                          "(4,096) bytes"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--max-record-bytes"), std::string::npos) << r.output;
  EXPECT_EQ(RunSegtune("--max-record-bytes 8K records verify " + Quote(dir / "z.record")).exit_code, 0);
}

}  // namespace
}  // namespace segtune
