#include "segtune/data/records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/coco2tfrecord.h"
#include "segtune/data/od_example.h"
#include "segtune/data/rle.h"
#include "segtune/data/tfrecord.h"
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

}  // namespace
}  // namespace segtune
