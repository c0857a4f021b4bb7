#include "segtune/data/records.h"
#include "segtune/data/records_export.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/coco2tfrecord.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/example.h"
#include "segtune/formats/rle.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::RunPython;
using segtune::testing::RunSegtune;
using segtune::testing::SourcePath;
using segtune::testing::TempDir;

const std::vector<double> kSquare = {8, 4, 32, 4, 32, 24, 8, 24};
const std::vector<double> kTriangle = {2, 2, 12, 2, 7, 20};

// Two JPEGs with masks converted by coco2tfrecord into 2 shards.
class RecordsSet : public ::testing::Test {
 protected:
  void SetUp() override {
    cv::imwrite((dir_ / "a.jpg").string(), cv::Mat(48, 64, CV_8UC3, cv::Scalar(1, 2, 3)));
    cv::imwrite((dir_ / "b.jpg").string(), cv::Mat(30, 40, CV_8UC3, cv::Scalar(4, 5, 6)));
    coco_ = ParseCoco(R"({
      "images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
                 {"id": 2, "file_name": "b.jpg", "width": 40, "height": 30}],
      "categories": [{"id": 1, "name": "bottle"}, {"id": 7, "name": "can"}],
      "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [8, 4, 24, 20], "area": 480, "iscrowd": 0,
         "segmentation": [[8, 4, 32, 4, 32, 24, 8, 24]]},
        {"id": 11, "image_id": 2, "category_id": 7, "bbox": [2, 2, 10, 18], "area": 90, "iscrowd": 0,
         "segmentation": [[2, 2, 12, 2, 7, 20]]},
        {"id": 12, "image_id": 2, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16, "iscrowd": 0,
         "segmentation": [[0, 0, 4, 0, 4, 4, 0, 4]]}]})",
                      "t");
    CocoToTfRecordOptions options;
    options.images_dir = dir_.path();
    options.output = (dir_ / "train").string();
    options.shards = 2;
    options.include_masks = true;
    files_ = ConvertCocoToTfRecord(coco_, options).outputs;
  }

  TempDir dir_;
  CocoDataset coco_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(RecordsSet, InfoCountsRecordsClassesSizesAndKeys) {
  const RecordsInfo info = InspectRecords(files_);
  EXPECT_EQ(info.files, 2);
  EXPECT_EQ(info.records, 2);
  EXPECT_EQ(info.objects, 3);
  EXPECT_EQ(info.classes.at({1, "bottle"}), 2);
  EXPECT_EQ(info.classes.at({7, "can"}), 1);
  EXPECT_EQ(info.min_width, 40);
  EXPECT_EQ(info.max_width, 64);
  EXPECT_DOUBLE_EQ(info.mean_height, 39);
  EXPECT_EQ(info.records_with_key.at("image/object/mask"), 2);
  EXPECT_EQ(info.formats.at("jpeg"), 2);
  EXPECT_TRUE(info.problems.empty());
  EXPECT_NE(FormatRecordsInfo(info).find("7, can: 1"), std::string::npos) << FormatRecordsInfo(info);
}

TEST_F(RecordsSet, VerifyPassesIntactAndListsCorruptRecords) {
  EXPECT_TRUE(VerifyRecords(files_).problems.empty());
  std::string bytes = ReadFile(files_[1]);
  bytes[40] ^= 0x01;
  std::ofstream(files_[1], std::ios::binary) << bytes;
  const VerifyReport report = VerifyRecords(files_);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("train-00001-of-00002: record 0"), std::string::npos) << report.problems[0];
  const auto cli = RunSegtune("records verify " + (dir_ / "train").string());
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  EXPECT_NE(cli.output.find("data CRC mismatch"), std::string::npos) << cli.output;
}

// issue 18 item 11: `records info` exited 0 on a corrupt record and on a text file.
TEST_F(RecordsSet, InfoExitsNonZeroOnCorruptOrTextFilesNamingThem) {
  std::string bytes = ReadFile(files_[1]);
  bytes[40] ^= 0x01;
  std::ofstream(files_[1], std::ios::binary) << bytes;
  const auto corrupt = RunSegtune("records info " + (dir_ / "train").string());
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.output;
  EXPECT_NE(corrupt.output.find("segtune: error: 1 unreadable record(s)"), std::string::npos) << corrupt.output;
  EXPECT_NE(corrupt.output.find(files_[1].string() + ": record 0 at byte 0: data CRC mismatch"), std::string::npos)
      << corrupt.output;
  WriteFileAtomic(dir_ / "notes.txt", "just some text, not a TFRecord at all\n");
  const auto text = RunSegtune("records info " + (dir_ / "notes.txt").string());
  EXPECT_EQ(text.exit_code, 1) << text.output;
  EXPECT_NE(text.output.find((dir_ / "notes.txt").string() + ": record 0"), std::string::npos) << text.output;
  const auto intact = RunSegtune("records info " + files_[0].string());
  EXPECT_EQ(intact.exit_code, 0) << intact.output;
}

TEST_F(RecordsSet, ExportRoundTripsToCocoWithImagesAndRleMasks) {
  const auto cli = RunSegtune("records export " + (dir_ / "train@2").string() + " --images-dir " +
                              (dir_ / "exported").string() + " -o " + (dir_ / "back.json").string());
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  const CocoDataset back = LoadCoco(dir_ / "back.json");
  ASSERT_EQ(back.images.size(), 2u);  // Shard 0 holds image 1, shard 1 image 2.
  EXPECT_EQ(back.images[0].id.text, "1");
  EXPECT_TRUE(back.images[0].id.is_number);
  EXPECT_EQ(ReadFile(dir_ / "exported" / "a.jpg"), ReadFile(dir_ / "a.jpg"));
  ASSERT_EQ(back.categories.size(), 2u);
  EXPECT_EQ(back.categories[1].name, "can");
  ASSERT_EQ(back.annotations.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(back.annotations[i].bbox[k], coco_.annotations[i].bbox[k], 1e-4);
    EXPECT_EQ(back.annotations[i].category_id, coco_.annotations[i].category_id);
    EXPECT_DOUBLE_EQ(back.annotations[i].area, coco_.annotations[i].area);
  }
  ASSERT_TRUE(back.annotations[1].segmentation.rle);
  EXPECT_EQ(*back.annotations[1].segmentation.rle, RleFromPolygons({kTriangle}, 30, 40));
  EXPECT_EQ(*back.annotations[0].segmentation.rle, RleFromPolygons({kSquare}, 48, 64));
}

TEST(Records, ExportReadsTensorFlowLayoutWithoutImageBytes) {
  TempDir dir;
  const auto made = RunPython(SourcePath("tests/data/reference/tfrecord_reference.py") + " write-tf-layout " +
                              (dir / "tf.record").string());
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const auto report = ExportRecordsToCoco({dir / "tf.record"}, {dir / "img", dir / "out.json"});
  EXPECT_EQ(report.images, 1);
  EXPECT_EQ(report.annotations, 2);
  const CocoDataset coco = LoadCoco(dir / "out.json");
  EXPECT_EQ(coco.images[0].file_name, "cat.jpg");
  EXPECT_EQ(coco.images[0].id.text, "42");
  EXPECT_NEAR(coco.annotations[0].bbox[0], 0.25 * 640, 1e-3);
  EXPECT_NEAR(coco.annotations[0].bbox[3], (0.5 - 0.125) * 480, 1e-3);
  EXPECT_TRUE(coco.annotations[1].iscrowd);
}

// Issue 18 item 8: records export narrowed image/width (int64 in the record) to int and wrote the
// wrapped value into the COCO file; class labels beyond int32 made a COCO file no reader accepts.
TEST(Records, ExportRefusesWidthOrLabelThatDoesNotFitCoco) {
  TempDir dir;
  for (const bool big_label : {false, true}) {
    ObjectDetectionExample ex;
    ex.source_id = "1";
    ex.height = 10;
    ex.width = big_label ? 10 : (int64_t{1} << 31) + 10;
    ex.boxes.push_back({0.f, 0.f, 1.f, 1.f});
    ex.class_label.push_back(big_label ? int64_t{1} << 40 : 1);
    {
      TFRecordWriter writer(dir / "big.record");
      writer.Write(ToExample(ex).SerializeAsString());
      writer.Close();
    }
    try {
      ExportRecordsToCoco({dir / "big.record"}, {dir / "img", dir / "out.json"});
      ADD_FAILURE() << "expected FormatError";
    } catch (const FormatError& e) {
      const std::string expected = (dir / "big.record").string() + ": record 0: " +
                                   (big_label ? "image/object/class/label[0]: 1099511627776" : "image/width: 2147483658") +
                                   " does not fit COCO";
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "out.json"));
  }
}

// A record as an attacker would write it: no image/filename, a path for image/source_id.
std::string HostileRecord(const std::string& source_id, const std::string& format, const std::string& filename = "") {
  tensorflow::Example ex;
  SetBytes(&ex, "image/encoded", "not really an image");
  SetBytes(&ex, "image/format", format);
  SetBytes(&ex, "image/source_id", source_id);
  if (!filename.empty()) SetBytes(&ex, "image/filename", filename);
  SetInt64(&ex, "image/height", 4);
  SetInt64(&ex, "image/width", 4);
  return ex.SerializeAsString();
}

TEST(Records, ExportNeverWritesOutsideImagesDir) {
  TempDir dir;
  const std::filesystem::path images = dir / "a" / "b" / "images";
  {
    TFRecordWriter writer(dir / "evil.record");
    writer.Write(HostileRecord("../../victim", "txt"));
    writer.Write(HostileRecord((dir / "home").string() + "/", "bashrc"));
    writer.Write(HostileRecord("7", "png", "../../../escape.png"));
    writer.Write(HostileRecord("8", "png", ".."));
    writer.Write(HostileRecord("x\x1b[2J", "jpeg"));
    writer.Close();
  }
  std::filesystem::create_directories(dir / "home");
  ::testing::internal::CaptureStderr();
  const auto report = ExportRecordsToCoco({dir / "evil.record"}, {images, dir / "out.json"});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(report.images, 5);
  EXPECT_FALSE(std::filesystem::exists(dir / "a" / "victim.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "home" / ".bashrc"));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "home"));
  EXPECT_FALSE(std::filesystem::exists(dir / "escape.png"));
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (!entry.is_regular_file()) continue;
    const auto parent = entry.path().parent_path();
    EXPECT_TRUE(parent == images || parent == dir.path()) << entry.path();
    if (parent == images) {
      ++files;
      EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();  // No hidden files.
      EXPECT_EQ(entry.path().filename().string().find('\x1b'), std::string::npos) << entry.path();
    }
  }
  EXPECT_EQ(files, 5u);
  const CocoDataset coco = LoadCoco(dir / "out.json");
  EXPECT_EQ(coco.images[0].file_name, "_.._victim.img");  // "txt" is not an image format.
  EXPECT_EQ(coco.images[2].file_name, "escape.png");
  // Every rename is reported, naming the file and the record.
  EXPECT_NE(err.find("evil.record: record 0: image/source_id: \"../../victim.img\" is unsafe"), std::string::npos) << err;
  EXPECT_NE(err.find("evil.record: record 0: image/format \"txt\" is not an image format"), std::string::npos) << err;
}

TEST(Records, ExportMakesRepeatedNamesUniqueInsteadOfFailing) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "dup.record");
    writer.Write(HostileRecord("1", "png", "a.png"));
    writer.Write(HostileRecord("1", "png", "a.png"));
    writer.Write(HostileRecord("1", "png", "a.png"));
    writer.Close();
  }
  ::testing::internal::CaptureStderr();
  ExportRecordsToCoco({dir / "dup.record"}, {dir / "img", dir / "out.json"});
  ::testing::internal::GetCapturedStderr();
  const CocoDataset coco = LoadCoco(dir / "out.json");
  ASSERT_EQ(coco.images.size(), 3u);
  EXPECT_EQ(coco.images[0].file_name, "a.png");
  EXPECT_EQ(coco.images[1].file_name, "1.png");
  EXPECT_EQ(coco.images[2].file_name, "1_2.png");
  for (const auto& im : coco.images) EXPECT_TRUE(std::filesystem::exists(dir / "img" / im.file_name));
  // A second export into the same place replaces the first only with --overwrite.
  EXPECT_THROW(ExportRecordsToCoco({dir / "dup.record"}, {dir / "img", dir / "out.json"}), UsageError);
  ::testing::internal::CaptureStderr();
  ExportRecordsToCoco({dir / "dup.record"}, {dir / "img", dir / "out.json", /*overwrite=*/true});
  ::testing::internal::GetCapturedStderr();
  WriteFileAtomic(dir / "img" / "notes.txt", "mine");  // Not an exported image: never written into.
  EXPECT_THROW(ExportRecordsToCoco({dir / "dup.record"}, {dir / "img", dir / "out2.json", true}), UsageError);
}

TEST(Records, ExportCliKeepsImagesInsideAndWarns) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "evil.record");
    writer.Write(HostileRecord("../../victim", "txt"));
    writer.Close();
  }
  std::filesystem::create_directories(dir / "x" / "y");
  const auto cli = RunSegtune("records export " + (dir / "evil.record").string() + " --images-dir " +
                              (dir / "x" / "y" / "img").string() + " -o " + (dir / "out.json").string());
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "x" / "victim.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "x" / "victim.img"));
  EXPECT_TRUE(std::filesystem::exists(dir / "x" / "y" / "img" / "_.._victim.img"));
  EXPECT_NE(cli.output.find("segtune: warning: records export: " + (dir / "evil.record").string() + ": record 0"),
            std::string::npos)
      << cli.output;
}

}  // namespace
}  // namespace segtune
