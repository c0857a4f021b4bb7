#include "segtune/evaluation/detection_gallery.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

namespace {

using segtune::CocoAnnotation;

CocoAnnotation Box(int64_t category, double x, double y, double w, double h, std::optional<double> score = {}) {
  CocoAnnotation a;
  a.category_id = category;
  a.bbox = {x, y, w, h};
  a.score = score;
  return a;
}

std::vector<const CocoAnnotation*> Pointers(const std::vector<CocoAnnotation>& v) {
  std::vector<const CocoAnnotation*> out;
  for (const auto& a : v) out.push_back(&a);
  return out;
}

double Value(const segtune::ImageScore& s, const std::string& name) {
  for (const auto& [k, v] : s.values) {
    if (k == name) return v;
  }
  return -1;
}

TEST(DetectionGallery, F1CountsMatchesAtIou50OfConfidentDetectionsOfTheRightClass) {
  segtune::DetectionGallery gallery(4);
  const std::vector<CocoAnnotation> gt = {Box(1, 0, 0, 20, 20), Box(2, 50, 50, 20, 20), Box(1, 100, 100, 20, 20)};
  const std::vector<CocoAnnotation> dt = {
      Box(1, 1, 1, 20, 20, 0.9),     // Found.
      Box(1, 0, 0, 20, 20, 0.8),     // The same object again: a false positive.
      Box(1, 50, 50, 20, 20, 0.7),   // Right place, wrong class: a false positive (and the dog is missed).
      Box(1, 100, 100, 20, 20, 0.3)  // Would match, but below the 0.5 score threshold: not counted.
  };
  gallery.Add("img", Pointers(gt), Pointers(dt), 200, 200, nullptr);
  const segtune::ImageScore& s = gallery.scores().at(0);
  EXPECT_EQ(s.values.at(0).first, "f1");
  EXPECT_EQ(Value(s, "true_positives"), 1);
  EXPECT_EQ(Value(s, "false_positives"), 2);
  EXPECT_EQ(Value(s, "missed"), 2);
  EXPECT_DOUBLE_EQ(s.rank(), 2.0 / (2 + 2 + 2));
}

TEST(DetectionGallery, EmptyImagesArePerfectAndTheWorstAreDrawnWithTheirBoxes) {
  segtune::DetectionGallery gallery(1);
  gallery.Add("nothing", {}, {}, 100, 100, nullptr);
  EXPECT_DOUBLE_EQ(gallery.scores().at(0).rank(), 1.0);
  const std::vector<CocoAnnotation> gt = {Box(1, 10, 10, 40, 40)};
  int drawn = 0;
  gallery.Add("missed", Pointers(gt), {}, 100, 400, [&] { ++drawn; return cv::Mat(100, 400, CV_8UC3, cv::Scalar(20, 20, 20)); });
  ASSERT_EQ(gallery.Worst().size(), 1u);
  EXPECT_EQ(gallery.Worst()[0].score.id, "missed");
  EXPECT_EQ(drawn, 1);
  const std::string jpeg = gallery.Worst()[0].jpeg;
  const cv::Mat picture = cv::imdecode(std::vector<uint8_t>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR);
  // 400x100 fits 240 wide: 240x60 panels.
  ASSERT_EQ(picture.rows, 60);
  ASSERT_EQ(picture.cols, 240 + 4 + 240);
  // The ground-truth box (class 1's colour, red-ish) is on the left panel's box edge, not on the right.
  const cv::Vec3b left = picture.at<cv::Vec3b>(6 + 10, 6);  // x = 10 * 0.6, y in the box's left edge.
  const cv::Vec3b right = picture.at<cv::Vec3b>(6 + 10, 244 + 6);
  EXPECT_GT(left[2], 80) << "box edge drawn";
  EXPECT_LT(right[2], 60) << "no detection drawn";
}

}  // namespace
