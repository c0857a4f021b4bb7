#include "segtune/data/coco2tfrecord.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/rle.h"
#include "segtune/formats/tfrecord.h"
#include "http_server.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::RunCommand;
using segtune::testing::RunPython;
using segtune::testing::RunSegtune;
using segtune::testing::SourcePath;
using segtune::testing::TempDir;

// Three images (JPEG 64x48, PNG 40x30, JPEG 32x32 without annotations) and annotations covering
// polygons, a crowd RLE, overlapping objects and the skip rules.
class SmallCocoSet : public ::testing::Test {
 protected:
  void SetUp() override {
    cv::Mat a(48, 64, CV_8UC3, cv::Scalar(10, 200, 30));
    cv::Mat b(30, 40, CV_8UC3, cv::Scalar(200, 20, 30));
    cv::Mat c(32, 32, CV_8UC3, cv::Scalar(90, 90, 90));
    cv::imwrite((dir_ / "a.jpg").string(), a);
    cv::imwrite((dir_ / "b.png").string(), b);
    cv::imwrite((dir_ / "c.jpg").string(), c);
    const std::string json = R"({
      "images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
                 {"id": "img-b", "file_name": "b.png", "width": 40, "height": 30},
                 {"id": 3, "file_name": "c.jpg", "width": 0, "height": 0}],
      "categories": [{"id": 1, "name": "bottle"}, {"id": 7, "name": "can"}],
      "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [8, 4, 24, 20], "area": 300, "iscrowd": 0,
         "segmentation": [[8, 4, 32, 4, 32, 24, 8, 24]]},
        {"id": 11, "image_id": 1, "category_id": 7, "bbox": [20, 10, 30, 30], "area": 450, "iscrowd": 0,
         "segmentation": [[20, 10, 50, 10, 35, 40]]},
        {"id": 12, "image_id": 1, "category_id": 7, "bbox": [0, 0, 0, 5], "area": 0, "iscrowd": 0,
         "segmentation": [[0, 0, 1, 0, 1, 5]]},
        {"id": 13, "image_id": 1, "category_id": 7, "bbox": [60, 40, 10, 10], "area": 4, "iscrowd": 0,
         "segmentation": [[60, 40, 63, 40, 63, 47]]},
        {"id": 20, "image_id": "img-b", "category_id": 7, "bbox": [0, 0, 2, 30], "area": 60, "iscrowd": 1,
         "segmentation": {"size": [30, 40], "counts": [0, 60, 1140]}}
      ]})";
    coco_ = ParseCoco(json, "small.json");
    options_.images_dir = dir_.path();
    options_.output = (dir_ / "out" / "train.record").string();
    options_.threads = 2;
  }

  std::vector<tensorflow::Example> ReadExamples(const std::filesystem::path& path) {
    std::vector<tensorflow::Example> out;
    for (const auto& r : ReadAllRecords(path)) out.push_back(ParseExample(r, path.string()));
    return out;
  }

  TempDir dir_;
  CocoDataset coco_;
  CocoToTfRecordOptions options_;
};

TEST_F(SmallCocoSet, WritesCreateCocoTfRecordKeysAndNormalizedBoxes) {
  const auto report = ConvertCocoToTfRecord(coco_, options_);
  EXPECT_EQ(report.images, 3);
  EXPECT_EQ(report.annotations_written, 3);
  EXPECT_EQ(report.skipped.at("width or height <= 0"), 1);
  EXPECT_EQ(report.skipped.at("box extends past the image"), 1);
  const auto examples = ReadExamples(options_.output);
  ASSERT_EQ(examples.size(), 3u);
  const auto& a = examples[0];
  EXPECT_EQ(GetInt64(a, "image/height", "a"), 48);
  EXPECT_EQ(GetInt64(a, "image/width", "a"), 64);
  EXPECT_EQ(GetBytes(a, "image/filename", "a"), "a.jpg");
  EXPECT_EQ(GetBytes(a, "image/source_id", "a"), "1");
  EXPECT_EQ(GetBytes(a, "image/format", "a"), "jpeg");
  EXPECT_EQ(GetBytes(a, "image/encoded", "a"), ReadFile(dir_ / "a.jpg"));  // Passed through.
  EXPECT_EQ(GetFloatList(a, "image/object/bbox/xmin", "a"), (std::vector<float>{float(8.0 / 64), float(20.0 / 64)}));
  EXPECT_EQ(GetFloatList(a, "image/object/bbox/xmax", "a"), (std::vector<float>{float(32.0 / 64), float(50.0 / 64)}));
  EXPECT_EQ(GetFloatList(a, "image/object/bbox/ymin", "a"), (std::vector<float>{float(4.0 / 48), float(10.0 / 48)}));
  EXPECT_EQ(GetFloatList(a, "image/object/bbox/ymax", "a"), (std::vector<float>{float(24.0 / 48), float(40.0 / 48)}));
  EXPECT_EQ(GetBytesList(a, "image/object/class/text", "a"), (std::vector<std::string>{"bottle", "can"}));
  EXPECT_EQ(GetInt64List(a, "image/object/class/label", "a"), (std::vector<int64_t>{1, 7}));
  EXPECT_EQ(GetInt64List(a, "image/object/is_crowd", "a"), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(GetFloatList(a, "image/object/area", "a"), (std::vector<float>{300, 450}));
  EXPECT_FALSE(HasFeature(a, "image/object/mask"));
  EXPECT_FALSE(HasFeature(a, "image/segmentation/class/encoded"));
  EXPECT_EQ(GetBytes(examples[1], "image/format", "b"), "png");
  EXPECT_EQ(GetBytes(examples[1], "image/source_id", "b"), "img-b");
  // Size from the file when COCO has none; no objects.
  EXPECT_EQ(GetInt64(examples[2], "image/width", "c"), 32);
  EXPECT_TRUE(GetFloatList(examples[2], "image/object/bbox/xmin", "c").empty());
  EXPECT_TRUE(HasFeature(examples[2], "image/object/bbox/xmin"));
}

TEST_F(SmallCocoSet, Sha256MatchesPythonHashlib) {
  ConvertCocoToTfRecord(coco_, options_);
  const auto examples = ReadExamples(options_.output);
  const auto result = RunPython("-c \"import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())\" " +
                                (dir_ / "b.png").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(GetBytes(examples[1], "image/key/sha256", "b").value() + "\n", result.output);
}

TEST_F(SmallCocoSet, InstanceMasksAre01GrayPngsOfTheRasterizedSegmentation) {
  options_.include_masks = true;
  ConvertCocoToTfRecord(coco_, options_);
  const auto examples = ReadExamples(options_.output);
  const auto masks = GetBytesList(examples[0], "image/object/mask", "a");
  ASSERT_EQ(masks.size(), 2u);
  const std::vector<std::vector<double>> polygons[] = {{{8, 4, 32, 4, 32, 24, 8, 24}}, {{20, 10, 50, 10, 35, 40}}};
  for (size_t k = 0; k < 2; ++k) {
    const cv::Mat png = cv::imdecode(std::vector<uchar>(masks[k].begin(), masks[k].end()), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(png.type(), CV_8UC1);
    ASSERT_EQ(png.rows, 48);
    ASSERT_EQ(png.cols, 64);
    std::vector<uint8_t> expected(48 * 64);
    RleDecode(RleFromPolygons(polygons[k], 48, 64), expected.data());
    int ones = 0;
    for (int y = 0; y < 48; ++y) {
      for (int x = 0; x < 64; ++x) {
        const uint8_t v = png.at<uint8_t>(y, x);
        ASSERT_TRUE(v == 0 || v == 1) << int(v);
        ASSERT_EQ(v, expected[y * 64 + x]) << k << " " << x << "," << y;
        ones += v;
      }
    }
    EXPECT_GT(ones, 100);
  }
  // The crowd RLE mask of image b: first 60 pixels in column-major order = columns 0 and 1.
  const auto crowd = GetBytesList(examples[1], "image/object/mask", "b");
  ASSERT_EQ(crowd.size(), 1u);
  const cv::Mat png = cv::imdecode(std::vector<uchar>(crowd[0].begin(), crowd[0].end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(png.at<uint8_t>(29, 1), 1);
  EXPECT_EQ(png.at<uint8_t>(0, 2), 0);
  EXPECT_EQ(cv::countNonZero(png), 60);
}

TEST_F(SmallCocoSet, SemanticMaskHoldsCategoryIdsLaterOverEarlierAndCrowdIgnore) {
  options_.semantic_masks = true;
  ConvertCocoToTfRecord(coco_, options_);
  const auto examples = ReadExamples(options_.output);
  EXPECT_EQ(GetBytes(examples[0], "image/segmentation/class/format", "a"), "png");
  const std::string sem = GetBytes(examples[0], "image/segmentation/class/encoded", "a").value();
  const cv::Mat png = cv::imdecode(std::vector<uchar>(sem.begin(), sem.end()), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(png.type(), CV_8UC1);
  std::vector<uint8_t> first(48 * 64), second(48 * 64);
  RleDecode(RleFromPolygons({{8, 4, 32, 4, 32, 24, 8, 24}}, 48, 64), first.data());
  RleDecode(RleFromPolygons({{20, 10, 50, 10, 35, 40}}, 48, 64), second.data());
  int overlap = 0;
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 64; ++x) {
      const size_t i = y * 64 + x;
      const int expected = second[i] ? 7 : first[i] ? 1 : 0;
      ASSERT_EQ(png.at<uint8_t>(y, x), expected) << x << "," << y;
      overlap += first[i] && second[i];
    }
  }
  EXPECT_GT(overlap, 0);  // The test exercises painting order.
  const std::string crowd = GetBytes(examples[1], "image/segmentation/class/encoded", "b").value();
  const cv::Mat b = cv::imdecode(std::vector<uchar>(crowd.begin(), crowd.end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(b.at<uint8_t>(5, 0), 255);
  EXPECT_EQ(b.at<uint8_t>(5, 5), 0);
}

TEST_F(SmallCocoSet, ShardsAreNamedAndFilledByIndexModuloCount) {
  options_.shards = 2;
  options_.output = (dir_ / "out" / "train").string();
  const auto report = ConvertCocoToTfRecord(coco_, options_);
  ASSERT_EQ(report.outputs.size(), 2u);
  EXPECT_EQ(report.outputs[0], dir_ / "out" / "train-00000-of-00002");
  EXPECT_EQ(report.outputs[1], dir_ / "out" / "train-00001-of-00002");
  const auto s0 = ReadExamples(report.outputs[0]);
  const auto s1 = ReadExamples(report.outputs[1]);
  ASSERT_EQ(s0.size(), 2u);
  ASSERT_EQ(s1.size(), 1u);
  EXPECT_EQ(GetBytes(s0[0], "image/source_id", "s"), "1");
  EXPECT_EQ(GetBytes(s0[1], "image/source_id", "s"), "3");
  EXPECT_EQ(GetBytes(s1[0], "image/source_id", "s"), "img-b");
}

TEST_F(SmallCocoSet, MissingImagesAreListedBeforeAnythingIsWritten) {
  std::filesystem::remove(dir_ / "b.png");
  try {
    ConvertCocoToTfRecord(coco_, options_);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("b.png"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(options_.output));
}

TEST_F(SmallCocoSet, SizeMismatchNamesTheImage) {
  coco_.images[0].width = 65;
  try {
    ConvertCocoToTfRecord(coco_, options_);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("a.jpg): COCO says 65x48 but the file is 64x48"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(options_.output));
}

TEST_F(SmallCocoSet, CliOutputDecodesWithPythonReference) {
  SaveCoco(coco_, dir_ / "small.json");
  const auto result = RunSegtune("coco2tfrecord --annotations " + (dir_ / "small.json").string() + " --images " +
                                 dir_.path().string() + " -o " + (dir_ / "cli.record").string() +
                                 " --include-masks --semantic-masks");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("2 annotations skipped"), std::string::npos) << result.output;
  const auto dump = RunPython(SourcePath("tests/data/reference/tfrecord_reference.py") + " dump " +
                              (dir_ / "cli.record").string());
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  const auto records = nlohmann::json::parse(dump.output);
  ASSERT_EQ(records.size(), 3u);
  const auto& f = records[0]["features"];
  for (const char* key : {"image/height", "image/width", "image/filename", "image/source_id", "image/key/sha256",
                          "image/encoded", "image/format", "image/object/bbox/xmin", "image/object/bbox/xmax",
                          "image/object/bbox/ymin", "image/object/bbox/ymax", "image/object/class/text",
                          "image/object/class/label", "image/object/is_crowd", "image/object/area",
                          "image/object/mask", "image/segmentation/class/encoded", "image/segmentation/class/format"}) {
    EXPECT_TRUE(f.contains(key)) << key;
  }
  EXPECT_EQ(f["image/object/bbox/xmin"]["value"][0].get<float>(), float(8.0 / 64));
  EXPECT_EQ(f["image/object/class/label"]["value"], nlohmann::json::parse("[1, 7]"));
}

TEST_F(SmallCocoSet, DownloadFetchesUrlImagesOnTheFly) {
  segtune::testing::HttpServer server;
  segtune::testing::HttpRoute route;
  route.body = ReadFile(dir_ / "b.png");
  server.SetRoute("/remote/b.png", route);
  coco_.images[1].file_name = server.Url("/remote/b.png");
  std::filesystem::remove(dir_ / "b.png");
  try {
    ConvertCocoToTfRecord(coco_, options_);
    FAIL() << "a URL image without --download must be refused";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("pass --download"), std::string::npos) << e.what();
  }
  options_.download = true;
  ConvertCocoToTfRecord(coco_, options_);
  const auto examples = ReadExamples(options_.output);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(GetBytes(examples[1], "image/encoded", "b"), route.body);
  EXPECT_EQ(GetBytes(examples[1], "image/format", "b"), "png");
  EXPECT_EQ(server.Hits("/remote/b.png"), 1);
}


// issue 18 item 12: a rerun with another --shards left the old set, and "train" then read both.
TEST_F(SmallCocoSet, RerunWithAnotherShardCountNeedsOverwriteAndRemovesTheOldSet) {
  options_.output = (dir_ / "out" / "train").string();
  options_.shards = 2;
  ConvertCocoToTfRecord(coco_, options_);
  options_.shards = 3;
  try {
    ConvertCocoToTfRecord(coco_, options_);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("coco2tfrecord: " + (dir_ / "out" / "train-00000-of-00002").string() +
                                         ": exists"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("pass --overwrite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ExpandInputPaths(options_.output).size(), 2u);  // Untouched.
  options_.overwrite = true;
  ConvertCocoToTfRecord(coco_, options_);
  const auto files = ExpandInputPaths(options_.output);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir_ / "out" / "train-00000-of-00003");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "train-00000-of-00002"));
  size_t records = 0;
  for (const auto& f : files) records += ReadAllRecords(f).size();
  EXPECT_EQ(records, coco_.images.size());
}

TEST_F(SmallCocoSet, NeverReplacesAFileThatIsNotATfRecord) {
  std::filesystem::create_directories(dir_ / "out");
  WriteFileAtomic(options_.output, "my notes, not records");
  for (const bool overwrite : {false, true}) {
    options_.overwrite = overwrite;
    try {
      ConvertCocoToTfRecord(coco_, options_);
      FAIL() << "expected UsageError";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(options_.output + ": exists and is not a TFRecord output"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(ReadFile(options_.output), "my notes, not records");
}

TEST(ShardSets, GlobOverTwoSetsOfOnePrefixIsAnErrorNamingThem) {
  TempDir dir;
  for (const auto& name : {"train-00000-of-00002", "train-00001-of-00002", "train-00000-of-00001"}) {
    TFRecordWriter w(dir / name);
    w.Write("x");
    w.Close();
  }
  for (const std::string item : {(dir / "train").string(), (dir / "train-*").string()}) {
    try {
      ExpandInputPaths(item);
      FAIL() << "expected IoError for " << item;
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(item + ": matches two shard sets of " + (dir / "train").string() +
                                           " (1 of 1 and 2 of 2 shards)"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(ExpandInputPaths((dir / "train@2").string()).size(), 2u);  // An explicit set is fine.
}

TEST(ShardSets, GlobSkipsTemporaryFilesOfAKilledRunWithAWarning) {
  TempDir dir;
  {
    TFRecordWriter w(dir / "a.record");
    w.Write("x");
    w.Close();
  }
  WriteFileAtomic(dir / "a.record.tmp-4242-0", "half written");
  ::testing::internal::CaptureStderr();
  const auto files = ExpandInputPaths((dir / "a.record*").string());
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0], dir / "a.record");
  EXPECT_NE(err.find("ignoring " + (dir / "a.record.tmp-4242-0").string() +
                     ", a temporary file left by an interrupted segtune run"),
            std::string::npos)
      << err;
}


TEST_F(SmallCocoSet, OutOfRangePolygonNamesTheImageAndAnnotation) {
  coco_.annotations[0].segmentation.polygons = {{8, 4, 2e9, 4, 32, 24}};
  options_.include_masks = true;
  try {
    ConvertCocoToTfRecord(coco_, options_);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("image 1 (a.jpg): annotation 10: segmentation: polygon coordinate"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace segtune
