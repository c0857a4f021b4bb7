#include "segtune/formats/od_example.h"

#include <gtest/gtest.h>

#include "segtune/core/error.h"
#include "segtune/formats/example.h"

namespace segtune {
namespace {

ObjectDetectionExample Sample() {
  ObjectDetectionExample od;
  od.encoded = "\xff\xd8jpegbytes";
  od.format = "jpeg";
  od.filename = "a.jpg";
  od.source_id = "7";
  od.sha256 = "abc";
  od.height = 20;
  od.width = 40;
  od.boxes = {{0.1f, 0.2f, 0.3f, 0.4f}, {0.5f, 0.5f, 1.0f, 1.0f}};
  od.class_text = {"cat", "dog"};
  od.class_label = {1, 3};
  od.is_crowd = {0, 1};
  od.area = {10.5f, 200};
  od.has_instance_masks = true;
  od.instance_masks = {"png1", "png2"};
  od.semantic_mask = "sem";
  od.semantic_mask_format = "png";
  return od;
}

TEST(ObjectDetectionExample, RoundTripsThroughTfExample) {
  const ObjectDetectionExample od = Sample();
  const tensorflow::Example ex = ToExample(od);
  EXPECT_EQ(GetFloatList(ex, "image/object/bbox/xmin", "t"), (std::vector<float>{0.2f, 0.5f}));
  EXPECT_EQ(GetBytes(ex, "image/segmentation/class/format", "t").value(), "png");
  const ObjectDetectionExample back = ParseObjectDetectionExample(ex, "t");
  EXPECT_EQ(back.encoded, od.encoded);
  EXPECT_EQ(back.height, 20);
  EXPECT_EQ(back.width, 40);
  EXPECT_EQ(back.boxes, od.boxes);
  EXPECT_EQ(back.class_text, od.class_text);
  EXPECT_EQ(back.class_label, od.class_label);
  EXPECT_EQ(back.is_crowd, od.is_crowd);
  EXPECT_EQ(back.area, od.area);
  EXPECT_TRUE(back.has_instance_masks);
  EXPECT_EQ(back.instance_masks, od.instance_masks);
  EXPECT_EQ(back.semantic_mask, "sem");
  EXPECT_FALSE(back.has_detections);
}

TEST(ObjectDetectionExample, DetectionKeysRoundTrip) {
  ObjectDetectionExample od = Sample();
  od.has_detections = true;
  od.detection_boxes = {{0, 0, 0.5f, 0.5f}};
  od.detection_scores = {0.9f};
  od.detection_labels = {3};
  const tensorflow::Example ex = ToExample(od);
  EXPECT_TRUE(HasFeature(ex, "image/detection/bbox/ymin"));
  const auto back = ParseObjectDetectionExample(ex, "t");
  EXPECT_TRUE(back.has_detections);
  EXPECT_EQ(back.detection_boxes, od.detection_boxes);
  EXPECT_EQ(back.detection_scores, od.detection_scores);
  EXPECT_EQ(back.detection_labels, od.detection_labels);
}

TEST(ObjectDetectionExample, MismatchedObjectListsNameTheKey) {
  tensorflow::Example ex = ToExample(Sample());
  SetInt64List(&ex, "image/object/class/label", {1});
  try {
    ParseObjectDetectionExample(ex, "r.record: record 3");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "r.record: record 3: image/object/class/label: 1 values for 2 boxes");
  }
}

TEST(ObjectDetectionExample, NoMaskKeyUnlessRequested) {
  ObjectDetectionExample od = Sample();
  od.has_instance_masks = false;
  od.instance_masks.clear();
  EXPECT_FALSE(HasFeature(ToExample(od), "image/object/mask"));
}

}  // namespace
}  // namespace segtune
