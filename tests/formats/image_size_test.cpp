// ReadImageSize: the header size of an image, or nullopt when the bytes are not a readable image.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "segtune/formats/image_codec.h"

namespace segtune {
namespace {

TEST(ImageSize, ReadsPngHeader) {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(3, 5, CV_8UC1, cv::Scalar(7)), png);
  const auto size = ReadImageSize(std::string(png.begin(), png.end()));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 5);
  EXPECT_EQ(size->height, 3);
}

// Empty bytes (an empty image/encoded) reached cv::imdecode, whose assertion escaped as a raw
// cv::Exception instead of "not an image". Found by fuzz_image_header (corpus: regression-empty).
TEST(ImageSize, EmptyOrUnknownBytesAreNotAnImage) {
  EXPECT_FALSE(ReadImageSize(std::string_view()));
  EXPECT_FALSE(ReadImageSize("not an image at all"));
}

}  // namespace
}  // namespace segtune
