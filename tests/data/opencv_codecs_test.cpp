// data/opencv_codecs.h loads libopencv_imgcodecs by name and looks the functions up by their mangled
// names: these tests check that what it calls is OpenCV's own imencode/imdecode (this test binary
// links the library, so cv::imencode here is the oracle).
#include "segtune/data/opencv_codecs.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

namespace segtune {
namespace {

cv::Mat Gradient() {
  cv::Mat image(37, 53, CV_8UC3);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 4, y * 6, (x + y) % 256);
  }
  return image;
}

TEST(OpenCvCodecs, EncodeGivesOpenCvsBytesWithTheParametersPassed) {
  const cv::Mat image = Gradient();
  for (const int quality : {30, 95}) {
    std::vector<uchar> ours, opencv;
    ASSERT_TRUE(EncodeWithOpenCv(".jpg", image, &ours, {cv::IMWRITE_JPEG_QUALITY, quality}));
    ASSERT_TRUE(cv::imencode(".jpg", image, opencv, {cv::IMWRITE_JPEG_QUALITY, quality}));
    EXPECT_EQ(ours, opencv) << "quality " << quality;
  }
  std::vector<uchar> low, high;
  EncodeWithOpenCv(".jpg", image, &low, {cv::IMWRITE_JPEG_QUALITY, 30});
  EncodeWithOpenCv(".jpg", image, &high, {cv::IMWRITE_JPEG_QUALITY, 95});
  EXPECT_LT(low.size(), high.size()) << "the parameters reach the encoder";
}

TEST(OpenCvCodecs, DecodeRoundTripsAPngAndHonoursTheFlags) {
  const cv::Mat image = Gradient();
  std::vector<uchar> png;
  ASSERT_TRUE(EncodeWithOpenCv(".png", image, &png));
  const cv::Mat color = DecodeWithOpenCv(cv::Mat(png), cv::IMREAD_COLOR);
  ASSERT_EQ(color.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(color, image, cv::NORM_INF), 0);
  const cv::Mat gray = DecodeWithOpenCv(cv::Mat(png), cv::IMREAD_GRAYSCALE);
  EXPECT_EQ(gray.type(), CV_8UC1);
  EXPECT_EQ(cv::norm(gray, cv::imdecode(png, cv::IMREAD_GRAYSCALE), cv::NORM_INF), 0);
}

TEST(OpenCvCodecs, BytesThatAreNoImageDecodeToAnEmptyMatAsInOpenCv) {
  const std::vector<uchar> junk = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  EXPECT_TRUE(DecodeWithOpenCv(cv::Mat(junk), cv::IMREAD_COLOR).empty());
}

}  // namespace
}  // namespace segtune
