// Image summaries from OpenCV images (engine/image_summary.h): PNG bytes in a TensorBoard event file.
#include "segtune/engine/image_summary.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "formats/event_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/events.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::DecodeEventFile;

TEST(ImageSummary, WritesImagesAsDecodablePng) {
  testing::TempDir dir;
  EventWriter writer(dir.path());
  cv::Mat bgr(6, 9, CV_8UC3, cv::Scalar(255, 0, 0));  // Pure blue in OpenCV's BGR order.
  AddImageSummary(writer, "overlay/0", bgr, 5);
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

TEST(ImageSummary, RejectsEmptyAndUnsupportedImagesNamingTheTag) {
  testing::TempDir dir;
  EventWriter writer(dir.path());
  try {
    AddImageSummary(writer, "overlay/1", cv::Mat(), 0);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("overlay/1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(AddImageSummary(writer, "overlay/2", cv::Mat(2, 2, CV_32FC1, cv::Scalar(0)), 0), Error);
}

}  // namespace
}  // namespace segtune
