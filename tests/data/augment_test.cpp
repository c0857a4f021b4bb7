// Augmentation and resizing: labels stay aligned with images, padding uses the ignore label.
#include "segtune/data/augment.h"

#include <gtest/gtest.h>

namespace segtune {
namespace {

TEST(Augment, HorizontalFlipMovesImageAndLabelTogether) {
  cv::Mat image(4, 6, CV_8UC3, cv::Scalar(0, 0, 0)), label(4, 6, CV_8UC1, cv::Scalar(0));
  image.col(0).setTo(cv::Scalar(200, 10, 10));
  label.col(0).setTo(cv::Scalar(1));
  AugmentOptions o;
  o.horizontal_flip_probability = 1;
  std::mt19937_64 rng(1);
  Augment(o, rng, 255, &image, &label);
  EXPECT_EQ(label.at<uint8_t>(2, 5), 1);
  EXPECT_EQ(label.at<uint8_t>(2, 0), 0);
  EXPECT_EQ(image.at<cv::Vec3b>(2, 5)[0], 200);
}

TEST(Augment, CropLargerThanImagePadsLabelWithIgnore) {
  cv::Mat image(4, 4, CV_8UC3, cv::Scalar(9, 9, 9)), label(4, 4, CV_8UC1, cv::Scalar(1));
  AugmentOptions o;
  o.crop_height = 6;
  o.crop_width = 5;
  std::mt19937_64 rng(3);
  Augment(o, rng, 255, &image, &label);
  ASSERT_EQ(label.rows, 6);
  ASSERT_EQ(label.cols, 5);
  EXPECT_EQ(cv::countNonZero(label == 255), 6 * 5 - 16);
  EXPECT_EQ(cv::countNonZero(label == 1), 16);
}

TEST(Augment, SameSeedGivesSameResult) {
  cv::Mat base(16, 16, CV_8UC3);
  cv::randu(base, 0, 255);
  cv::Mat label(16, 16, CV_8UC1, cv::Scalar(2));
  AugmentOptions o;
  o.horizontal_flip_probability = 0.5f;
  o.min_scale = 0.5f;
  o.max_scale = 1.5f;
  o.crop_height = o.crop_width = 8;
  o.brightness_delta = 0.2f;
  o.hue_delta = 0.05f;
  cv::Mat a = base.clone(), b = base.clone(), la = label.clone(), lb = label.clone();
  std::mt19937_64 r1(42), r2(42);
  Augment(o, r1, 255, &a, &la);
  Augment(o, r2, 255, &b, &lb);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(la, lb, cv::NORM_INF), 0);
}

TEST(Resize, KeepAspectRatioFollowsTfRule) {
  // Short side to min_dimension unless the long side would pass max_dimension.
  EXPECT_EQ(KeepAspectRatioSize(300, 600, 600, 1024), cv::Size(1024, 512));
  EXPECT_EQ(KeepAspectRatioSize(400, 500, 600, 1024), cv::Size(750, 600));
  ResizePolicy p;
  p.kind = ResizePolicy::Kind::kKeepAspectRatio;
  p.min_dimension = 8;
  p.max_dimension = 16;
  p.pad_to_max_dimension = true;
  cv::Mat image(4, 8, CV_8UC3, cv::Scalar(1, 1, 1)), label(4, 8, CV_8UC1, cv::Scalar(3));
  ApplyResize(p, 255, &image, &label);
  ASSERT_EQ(label.size(), cv::Size(16, 16));
  EXPECT_EQ(label.at<uint8_t>(0, 0), 3);
  EXPECT_EQ(label.at<uint8_t>(15, 15), 255);
}

}  // namespace
}  // namespace segtune
