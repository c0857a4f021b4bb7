// EventWriter: files TensorBoard can read (TFRecord framing of tensorboard.Event protos).
#include "segtune/engine/events.h"

#include <gtest/gtest.h>

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/formats/crc32c.h"
#include "test_util.h"

namespace segtune {
namespace {

// Decodes TFRecord framing by hand (independently of TFRecordReader) and checks both CRCs.
std::vector<tensorboard::Event> DecodeEventFile(const std::filesystem::path& path) {
  const std::string bytes = ReadFile(path);
  std::vector<tensorboard::Event> events;
  size_t at = 0;
  while (at < bytes.size()) {
    EXPECT_LE(at + 12, bytes.size());
    uint64_t length;
    uint32_t length_crc, data_crc;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(length_crc, MaskCrc(Crc32c(std::string_view(bytes.data() + at, 8))));
    const std::string_view data(bytes.data() + at + 12, length);
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(data_crc, MaskCrc(Crc32c(data)));
    tensorboard::Event event;
    EXPECT_TRUE(event.ParseFromArray(data.data(), static_cast<int>(data.size())));
    events.push_back(event);
    at += 12 + length + 4;
  }
  return events;
}

TEST(EventWriter, NamesFileLikeTensorBoardAndStartsWithFileVersion) {
  testing::TempDir dir;
  EventWriter writer(dir / "train");
  const std::string name = writer.path().filename().string();
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  EXPECT_NE(name.find("." + std::to_string(getpid()) + ".segtune"), std::string::npos) << name;
  const auto events = DecodeEventFile(writer.path());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_GT(events[0].wall_time(), 1.6e9);
}

TEST(EventWriter, WritesScalarsAsSimpleValuesVisibleBeforeClose) {
  testing::TempDir dir;
  EventWriter writer(dir.path());
  writer.AddScalar("loss", 0.75, 10);
  writer.AddScalar("train/lr", 1e-3, 20);
  const auto events = DecodeEventFile(writer.path());  // Still open: each Add flushed.
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].step(), 10);
  ASSERT_EQ(events[1].summary().value_size(), 1);
  EXPECT_EQ(events[1].summary().value(0).tag(), "loss");
  EXPECT_FLOAT_EQ(events[1].summary().value(0).simple_value(), 0.75f);
  EXPECT_EQ(events[2].summary().value(0).tag(), "train/lr");
  EXPECT_FLOAT_EQ(events[2].summary().value(0).simple_value(), 1e-3f);
}

TEST(EventWriter, WritesImagesAsDecodablePng) {
  testing::TempDir dir;
  EventWriter writer(dir.path());
  cv::Mat bgr(6, 9, CV_8UC3, cv::Scalar(255, 0, 0));  // Pure blue in OpenCV's BGR order.
  writer.AddImage("overlay/0", bgr, 5);
  const auto events = DecodeEventFile(writer.path());
  ASSERT_EQ(events.size(), 2u);
  const auto& image = events[1].summary().value(0).image();
  EXPECT_EQ(image.height(), 6);
  EXPECT_EQ(image.width(), 9);
  EXPECT_EQ(image.colorspace(), 3);
  const std::string& png = image.encoded_image_string();
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  cv::Mat back = cv::imdecode(std::vector<uchar>(png.begin(), png.end()), cv::IMREAD_COLOR);
  ASSERT_EQ(back.rows, 6);
  EXPECT_EQ(back.at<cv::Vec3b>(2, 3), cv::Vec3b(255, 0, 0));
}

TEST(EventWriter, WritesGraphDefEvent) {
  testing::TempDir dir;
  EventWriter writer(dir.path());
  tensorboard::GraphDef graph;
  auto* node = graph.add_node();
  node->set_name("backbone/conv1");
  node->set_op("aten::conv2d");
  graph.mutable_versions()->set_producer(22);
  writer.AddGraph(graph);
  const auto events = DecodeEventFile(writer.path());
  ASSERT_EQ(events.size(), 2u);
  tensorboard::GraphDef back;
  ASSERT_TRUE(back.ParseFromString(events[1].graph_def()));
  ASSERT_EQ(back.node_size(), 1);
  EXPECT_EQ(back.node(0).name(), "backbone/conv1");
}

TEST(EventWriter, TwoWritersInOneDirectoryGetDistinctFiles) {
  testing::TempDir dir;
  EventWriter a(dir.path());
  EventWriter b(dir.path());
  EXPECT_NE(a.path(), b.path());
  EXPECT_NE(b.path().filename().string().find("tfevents"), std::string::npos);
}

}  // namespace
}  // namespace segtune
