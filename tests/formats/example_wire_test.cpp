#include "segtune/formats/example_wire.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "segtune/formats/tfrecord.h"

namespace segtune {
namespace {

ObjectDetectionExample SampleExample() {
  ObjectDetectionExample od;
  od.encoded = std::string("\xff\xd8\xff\xe0", 4) + std::string(300, '\x7f') + std::string(1, '\0');
  od.format = "jpeg";
  od.filename = "a/b.jpg";
  od.source_id = "42";
  od.sha256 = std::string(64, 'e');
  od.height = 480;
  od.width = 70000;  // Multi-byte varint.
  od.boxes = {{0.1f, 0.2f, 0.3f, 0.4f}, {0.5f, 0.25f, 1.0f, 0.75f}};
  od.class_text = {"cat", ""};
  od.class_label = {1, -3};  // A negative id takes the 10-byte varint form.
  od.is_crowd = {0, 1};
  od.area = {12.5f, 300.0f};
  od.has_instance_masks = true;
  od.instance_masks = {std::string(200, 'm'), std::string(1, '\0')};
  od.semantic_mask = "png-bytes";
  od.has_detections = true;
  od.detection_boxes = {{0.f, 0.f, 1.f, 1.f}};
  od.detection_scores = {0.9f};
  od.detection_labels = {7};
  return od;
}

void ExpectSameMessage(const ObjectDetectionExample& od) {
  std::string wire;
  AppendObjectDetectionExampleWire(od, &wire);
  tensorflow::Example parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(ToExample(od), parsed)) << diff;
  // Same size as protobuf's own serialization (only the map order may differ).
  EXPECT_EQ(wire.size(), ToExample(od).ByteSizeLong());
}

TEST(ExampleWire, ParsesToTheMessageToExampleBuilds) { ExpectSameMessage(SampleExample()); }

TEST(ExampleWire, EmptyObjectListsStillSetTheirKind) {
  ObjectDetectionExample od = SampleExample();
  od.boxes.clear();
  od.class_text.clear();
  od.class_label.clear();
  od.is_crowd.clear();
  od.area.clear();
  od.instance_masks.clear();
  od.semantic_mask.clear();
  od.has_detections = false;
  ExpectSameMessage(od);
}

TEST(ExampleWire, LargeImageBytesUseMultiByteLengths) {
  ObjectDetectionExample od = SampleExample();
  od.encoded.assign(3 << 20, 'x');
  ExpectSameMessage(od);
}

TEST(TFRecordFrame, FramedRecordReadsBackWithValidCrcs) {
  const std::string path = ::testing::TempDir() + "/framed.record";
  {
    TFRecordWriter writer(path);
    for (const std::string data : {std::string("first"), std::string(), std::string(100000, 'z')}) {
      std::string buffer(kTFRecordHeaderBytes, '\0');
      buffer += data;
      FinishTFRecordFrame(&buffer);
      writer.WriteFramed(buffer);
    }
    writer.Close();
  }
  const auto records = ReadAllRecords(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], "first");
  EXPECT_EQ(records[1], "");
  EXPECT_EQ(records[2], std::string(100000, 'z'));
}

}  // namespace
}  // namespace segtune
