// EventWriter: files TensorBoard can read (TFRecord framing of tensorboard.Event protos).
#include "segtune/formats/events.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "formats/event_file.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::DecodeEventFile;

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

TEST(EventWriter, StoresEncodedImageBytesAsTheyAre) {
  testing::TempDir dir;
  EventWriter writer(dir.path());
  const std::string bytes("\x89PNG\r\n\x1a\n\0any bytes", 18);  // Not decoded: the caller encoded them.
  writer.AddEncodedImage("overlay/0", bytes, 6, 9, 3, 5);
  const auto events = DecodeEventFile(writer.path());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].step(), 5);
  EXPECT_EQ(events[1].summary().value(0).tag(), "overlay/0");
  const auto& image = events[1].summary().value(0).image();
  EXPECT_EQ(image.height(), 6);
  EXPECT_EQ(image.width(), 9);
  EXPECT_EQ(image.colorspace(), 3);
  EXPECT_EQ(image.encoded_image_string(), bytes);
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
