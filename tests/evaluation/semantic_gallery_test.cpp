#include "segtune/evaluation/semantic_gallery.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/base64.h"

namespace {

// A 40x60 ground truth: left half class 1, right half class 2; the prediction gets `wrong` columns
// of the right half as class 1.
void Maps(int wrong, cv::Mat* gt, cv::Mat* pred) {
  *gt = cv::Mat(40, 60, CV_8UC1, cv::Scalar(1));
  (*gt)(cv::Rect(30, 0, 30, 40)).setTo(2);
  *pred = gt->clone();
  if (wrong > 0) (*pred)(cv::Rect(30, 0, wrong, 40)).setTo(1);
}

TEST(SemanticGallery, PerImageIouIsTheMeanOverTheClassesOfThatImage) {
  segtune::SemanticGallery gallery(3, 255, 4);
  cv::Mat gt, pred;
  Maps(10, &gt, &pred);
  gt.at<uint8_t>(0, 0) = 255;  // Ignored: not counted on either side.
  gallery.Add("a", gt, pred, nullptr);
  ASSERT_EQ(gallery.scores().size(), 1u);
  EXPECT_EQ(gallery.scores()[0].values.at(0).first, "mean_iou");
  EXPECT_EQ(gallery.scores()[0].values.at(1).first, "pixel_accuracy");
  // Class 1: 1199 gt pixels (one ignored), predicted on 1199 + 400; IoU 1199/1599. Class 2: 800/1200.
  const double expected = (1199.0 / 1599.0 + 800.0 / 1200.0) / 2;
  EXPECT_NEAR(gallery.scores()[0].values.at(0).second, expected, 1e-12);
  EXPECT_NEAR(gallery.scores()[0].values.at(1).second, (2399.0 - 400.0) / 2399.0, 1e-12);
  // A class neither side has does not count as 0.
  Maps(0, &gt, &pred);
  gallery.Add("perfect", gt, pred, nullptr);
  EXPECT_DOUBLE_EQ(gallery.scores()[1].values.at(0).second, 1.0);
}

TEST(SemanticGallery, KeepsTheWorstImagesWorstFirstAndDecodesOnlyThose) {
  segtune::SemanticGallery gallery(3, 255, 2);
  int decoded = 0;
  const cv::Mat photo(40, 60, CV_8UC3, cv::Scalar(0, 200, 0));
  for (int wrong : {5, 25, 0, 15, 1}) {
    cv::Mat gt, pred;
    Maps(wrong, &gt, &pred);
    gallery.Add("wrong" + std::to_string(wrong), gt, pred, [&] { ++decoded; return photo; });
  }
  EXPECT_EQ(gallery.scores().size(), 5u);
  const auto worst = gallery.Worst();
  ASSERT_EQ(worst.size(), 2u);
  EXPECT_EQ(worst[0].score.id, "wrong25");
  EXPECT_EQ(worst[1].score.id, "wrong15");
  // 5 and 25 fill the two places; 0 and 1 are better than both kept, 15 replaces 5.
  EXPECT_EQ(decoded, 3);
  // [ground truth | 4 px gap | prediction] at full size (below the thumbnail limits), a real JPEG.
  const std::vector<uint8_t> bytes(worst[0].jpeg.begin(), worst[0].jpeg.end());
  const cv::Mat thumb = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_FALSE(thumb.empty());
  EXPECT_EQ(thumb.rows, 40);
  EXPECT_EQ(thumb.cols, 60 + 4 + 60);
  const nlohmann::json j = segtune::GalleryToJson(gallery.scores(), worst);
  EXPECT_EQ(j["image_scores"].size(), 5u);
  EXPECT_EQ(j["image_scores"][1]["id"], "wrong25") << "input order";
  EXPECT_EQ(j["gallery_ranked_by"], "mean_iou");
  EXPECT_EQ(j["gallery"][0]["mean_iou"], worst[0].score.rank());
  const std::string uri = j["gallery"][0]["thumbnail"];
  ASSERT_EQ(uri.rfind("data:image/jpeg;base64,", 0), 0u);
  EXPECT_EQ(segtune::Base64Decode(uri.substr(23)), worst[0].jpeg);
}

TEST(SemanticGallery, LargeImagesGiveSmallThumbnails) {
  segtune::SemanticGallery gallery(2, 255, 1);
  cv::Mat gt(1000, 3000, CV_8UC1, cv::Scalar(1)), pred(1000, 3000, CV_8UC1, cv::Scalar(0));
  gallery.Add("big", gt, pred, [] { return cv::Mat(1000, 3000, CV_8UC3, cv::Scalar(90, 90, 90)); });
  const std::string jpeg = gallery.Worst().at(0).jpeg;
  const cv::Mat thumb = cv::imdecode(std::vector<uint8_t>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR);
  EXPECT_LE(thumb.rows, segtune::kThumbnailHeight);
  EXPECT_LE(thumb.cols, 2 * segtune::kThumbnailPanelWidth + 4);
  EXPECT_LT(jpeg.size(), 30000u);
}

}  // namespace
