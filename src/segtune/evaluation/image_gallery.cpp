#include "segtune/evaluation/image_gallery.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/base64.h"
#include "segtune/core/error.h"
#include "segtune/data/opencv_codecs.h"

namespace segtune {
namespace {

bool BetterOnTop(const GalleryEntry& a, const GalleryEntry& b) { return a.score.rank() < b.score.rank(); }

nlohmann::json ScoreJson(const ImageScore& s) {
  nlohmann::json j = {{"id", s.id}};
  for (const auto& [name, value] : s.values) j[name] = value;
  return j;
}

}  // namespace

void WorstImages::Offer(const ImageScore& score, const std::function<std::string()>& draw) {
  scores_.push_back(score);
  if (keep_ == 0) return;
  if (kept_.size() == keep_ && score.rank() >= kept_.front().score.rank()) return;
  kept_.push_back({score, draw()});
  std::push_heap(kept_.begin(), kept_.end(), BetterOnTop);
  if (kept_.size() > keep_) {
    std::pop_heap(kept_.begin(), kept_.end(), BetterOnTop);
    kept_.pop_back();
  }
}

std::vector<GalleryEntry> WorstImages::Worst() const {
  std::vector<GalleryEntry> out = kept_;
  std::stable_sort(out.begin(), out.end(), BetterOnTop);
  return out;
}

cv::Size ThumbnailPanelSize(cv::Size size) {
  const double scale = std::min({1.0, double(kThumbnailHeight) / std::max(1, size.height),
                                 double(kThumbnailPanelWidth) / std::max(1, size.width)});
  return {std::max(1, int(size.width * scale)), std::max(1, int(size.height * scale))};
}

std::string SideBySideJpeg(const cv::Mat& left, const cv::Mat& right) {
  cv::Mat panels;
  const cv::Mat gap(left.rows, 4, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::hconcat(std::vector<cv::Mat>{left, gap, right}, panels);
  std::vector<uint8_t> jpeg;
  if (!EncodeWithOpenCv(".jpg", panels, &jpeg, {cv::IMWRITE_JPEG_QUALITY, 80})) throw Error("gallery: JPEG encoding failed");
  return std::string(jpeg.begin(), jpeg.end());
}

nlohmann::json GalleryToJson(const std::vector<ImageScore>& scores, const std::vector<GalleryEntry>& kept) {
  nlohmann::json images = nlohmann::json::array(), worst = nlohmann::json::array();
  for (const ImageScore& s : scores) images.push_back(ScoreJson(s));
  for (const GalleryEntry& e : kept) {
    nlohmann::json j = ScoreJson(e.score);
    j["thumbnail"] = "data:image/jpeg;base64," + Base64Encode(e.jpeg);
    worst.push_back(std::move(j));
  }
  const std::string ranked_by = scores.empty() || scores[0].values.empty() ? "" : scores[0].values[0].first;
  return {{"image_scores", images}, {"gallery", worst}, {"gallery_ranked_by", ranked_by}};
}

}  // namespace segtune
