// The detection input pipeline: boxes denormalized to pixels, labels, PNG instance masks, crowd and
// empty images, flips, from segtune's coco2tfrecord records and from an Example built in the layout
// TF's create_coco_tf_record.py writes.
#include "segtune/data/detection_dataset.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "example.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/coco.h"
#include "segtune/data/coco2tfrecord.h"
#include "segtune/core/ordered_pool.h"
#include "segtune/formats/rle.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

std::string Png(const cv::Mat& m) {
  std::vector<uchar> png;
  cv::imencode(".png", m, png);
  return std::string(png.begin(), png.end());
}

// Two images converted by segtune's coco2tfrecord with masks: a 64x48 one with a rectangle (id 1)
// and a triangle (id 7) plus a crowd region, and a 40x30 one without objects.
class CocoRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    cv::imwrite((dir_ / "a.png").string(), cv::Mat(48, 64, CV_8UC3, cv::Scalar(10, 20, 30)));
    cv::imwrite((dir_ / "b.png").string(), cv::Mat(30, 40, CV_8UC3, cv::Scalar(200, 20, 30)));
    coco_ = ParseCoco(R"({
      "images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48},
                 {"id": 2, "file_name": "b.png", "width": 40, "height": 30}],
      "categories": [{"id": 1, "name": "bottle"}, {"id": 7, "name": "can"}],
      "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [8, 4, 24, 20], "area": 480, "iscrowd": 0,
         "segmentation": [[8, 4, 32, 4, 32, 24, 8, 24]]},
        {"id": 11, "image_id": 1, "category_id": 7, "bbox": [20, 10, 30, 30], "area": 450, "iscrowd": 0,
         "segmentation": [[20, 10, 50, 10, 35, 40]]},
        {"id": 12, "image_id": 1, "category_id": 7, "bbox": [40, 30, 10, 10], "area": 100, "iscrowd": 1,
         "segmentation": [[40, 30, 50, 30, 50, 40, 40, 40]]}
      ]})",
                      "small.json");
    CocoToTfRecordOptions options;
    options.images_dir = dir_.path();
    options.output = (dir_ / "train.record").string();
    options.include_masks = true;
    ConvertCocoToTfRecord(coco_, options);
  }

  DetectionDatasetOptions Options(bool train) const {
    DetectionDatasetOptions o;
    o.files = {dir_ / "train.record"};
    o.num_classes = 8;
    o.load_masks = true;
    o.train = train;
    o.shuffle = false;
    o.batch_size = 2;
    return o;
  }

  testing::TempDir dir_;
  CocoDataset coco_;
};

TEST_F(CocoRecords, BoxesInPixelsLabelsAndMasksFromCoco2TfRecord) {
  const DetectionDataset data(Options(/*train=*/false));
  ASSERT_EQ(data.size(), 2u);
  const DetectionBatch batch = data.MakeBatch(0);
  ASSERT_EQ(batch.samples.size(), 2u);
  const DetectionSample& a = batch.samples[0];
  EXPECT_EQ(a.rgb.cols, 64);
  EXPECT_EQ(a.rgb.rows, 48);
  EXPECT_EQ(a.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));  // RGB of the BGR PNG.
  ASSERT_EQ(a.labels, (std::vector<int64_t>{1, 7, 7}));          // Eval keeps the crowd region...
  EXPECT_EQ(a.is_crowd, (std::vector<uint8_t>{0, 0, 1}));         // ...flagged.
  const std::vector<float> expected = {8, 4, 32, 24, 20, 10, 50, 40, 40, 30, 50, 40};  // COCO xywh -> xyxy.
  ASSERT_EQ(a.boxes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(a.boxes[i], expected[i], 1e-4) << i;
  EXPECT_FLOAT_EQ(a.area[0], 480.f);
  // Masks: the COCO polygons rasterized by coco2tfrecord, 0/1 at the image's size.
  ASSERT_EQ(a.masks.size(), 3u);
  for (size_t k = 0; k < 2; ++k) {
    const auto& poly = coco_.annotations[k].segmentation.polygons;
    const Rle reference = RleFromPolygons(poly, 48, 64);
    ASSERT_EQ(a.masks[k].type(), CV_8UC1);
    EXPECT_EQ(cv::countNonZero(a.masks[k]), static_cast<int>(RleArea(reference))) << k;
    double max_value = 0;
    cv::minMaxLoc(a.masks[k], nullptr, &max_value);
    EXPECT_EQ(max_value, 1.0);
  }
  // An image without objects: empty lists, as torchvision's negative images.
  const DetectionSample& b = batch.samples[1];
  EXPECT_EQ(b.rgb.cols, 40);
  EXPECT_TRUE(b.labels.empty());
  EXPECT_TRUE(b.boxes.empty());
  EXPECT_TRUE(b.masks.empty());
}

TEST_F(CocoRecords, TrainingDropsCrowdAndFlipsBoxesAndMasksTogether) {
  DetectionDatasetOptions o = Options(/*train=*/true);
  o.horizontal_flip_probability = 1.0f;
  const DetectionDataset data(o);
  const DetectionSample s = data.LoadSample(0);
  ASSERT_TRUE(s.flipped);
  ASSERT_EQ(s.labels, (std::vector<int64_t>{1, 7}));  // The crowd region is not a training target.
  EXPECT_NEAR(s.boxes[0], 64 - 32, 1e-4);
  EXPECT_NEAR(s.boxes[2], 64 - 8, 1e-4);
  EXPECT_NEAR(s.boxes[1], 4, 1e-4);
  // The flipped mask's columns lie inside the flipped box.
  cv::Mat points;
  cv::findNonZero(s.masks[0], points);
  const cv::Rect r = cv::boundingRect(points);
  EXPECT_GE(r.x, static_cast<int>(s.boxes[0]) - 1);
  EXPECT_LE(r.x + r.width, static_cast<int>(s.boxes[2]) + 1);
  EXPECT_EQ(s.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));

  // The parallel loader hands out the same batches in order whatever the worker count.
  const DetectionDataset again(o);
  OrderedLoader<DetectionBatch> loader([&again](int64_t i) { return again.MakeBatch(i); }, 0, 3, 3, 2);
  DetectionBatch batch;
  int64_t expected_index = 0;
  while (loader.Next(&batch)) {
    EXPECT_EQ(batch.index, expected_index);
    EXPECT_EQ(batch.samples[0].boxes, data.MakeBatch(expected_index).samples[0].boxes);
    ++expected_index;
  }
  EXPECT_EQ(expected_index, 3);
}

TEST_F(CocoRecords, LabelOutsideNumClassesNamesRecordAndObject) {
  DetectionDatasetOptions o = Options(/*train=*/false);
  o.num_classes = 3;  // Category 7 does not fit.
  const DetectionDataset data(o);
  try {
    data.MakeBatch(0);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("train.record: record 0"), std::string::npos) << what;
    EXPECT_NE(what.find("image/object/class/label[1]"), std::string::npos) << what;
    EXPECT_NE(what.find("outside 1..2"), std::string::npos) << what;
  }
}

void AddBytes(tensorflow::Example* ex, const std::string& key, const std::vector<std::string>& values) {
  auto* list = (*ex->mutable_features()->mutable_feature())[key].mutable_bytes_list();
  for (const auto& v : values) list->add_value(v);
}
void AddFloats(tensorflow::Example* ex, const std::string& key, const std::vector<float>& values) {
  auto* list = (*ex->mutable_features()->mutable_feature())[key].mutable_float_list();
  for (float v : values) list->add_value(v);
}
void AddInts(tensorflow::Example* ex, const std::string& key, const std::vector<int64_t>& values) {
  auto* list = (*ex->mutable_features()->mutable_feature())[key].mutable_int64_list();
  for (int64_t v : values) list->add_value(v);
}

TEST(DetectionInput, ReadsAnExampleInCreateCocoTfRecordLayout) {
  // The features create_coco_tf_record.py's create_tf_example writes (include_masks=True), key by key.
  testing::TempDir dir;
  const int width = 50, height = 40;
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
  mask(cv::Rect(10, 5, 20, 10)).setTo(1);
  tensorflow::Example ex;
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", image, jpeg);
  AddInts(&ex, "image/height", {height});
  AddInts(&ex, "image/width", {width});
  AddBytes(&ex, "image/filename", {"000000000042.jpg"});
  AddBytes(&ex, "image/source_id", {"42"});
  AddBytes(&ex, "image/key/sha256", {"0123"});
  AddBytes(&ex, "image/encoded", {std::string(jpeg.begin(), jpeg.end())});
  AddBytes(&ex, "image/format", {"jpeg"});
  AddFloats(&ex, "image/object/bbox/xmin", {10.f / width});
  AddFloats(&ex, "image/object/bbox/xmax", {30.f / width});
  AddFloats(&ex, "image/object/bbox/ymin", {5.f / height});
  AddFloats(&ex, "image/object/bbox/ymax", {15.f / height});
  AddBytes(&ex, "image/object/class/text", {"person"});
  AddInts(&ex, "image/object/class/label", {1});
  AddInts(&ex, "image/object/is_crowd", {0});
  AddFloats(&ex, "image/object/area", {200.f});
  AddBytes(&ex, "image/object/mask", {Png(mask)});
  {
    TFRecordWriter writer(dir / "coco.record");
    writer.Write(ex.SerializeAsString());
    writer.Close();
  }
  DetectionDatasetOptions o;
  o.files = {dir / "coco.record"};
  o.num_classes = 91;
  o.load_masks = true;
  o.train = false;
  const DetectionSample s = DetectionDataset(o).LoadSample(0);
  EXPECT_EQ(s.source_id, "42");
  ASSERT_EQ(s.labels, (std::vector<int64_t>{1}));
  EXPECT_NEAR(s.boxes[0], 10, 1e-4);
  EXPECT_NEAR(s.boxes[1], 5, 1e-4);
  EXPECT_NEAR(s.boxes[2], 30, 1e-4);
  EXPECT_NEAR(s.boxes[3], 15, 1e-4);
  ASSERT_EQ(s.masks.size(), 1u);
  EXPECT_EQ(cv::countNonZero(s.masks[0] != mask), 0);

  // Box-only models read the same record without touching the masks; a record without masks
  // is an error only when masks are asked for.
  o.load_masks = false;
  EXPECT_TRUE(DetectionDataset(o).LoadSample(0).masks.empty());
  ex.mutable_features()->mutable_feature()->erase("image/object/mask");
  {
    TFRecordWriter writer(dir / "nomask.record");
    writer.Write(ex.SerializeAsString());
    writer.Close();
  }
  o.files = {dir / "nomask.record"};
  EXPECT_EQ(DetectionDataset(o).LoadSample(0).labels.size(), 1u);
  o.load_masks = true;
  EXPECT_THROW(DetectionDataset(o).LoadSample(0), FormatError);
}

}  // namespace
}  // namespace segtune
