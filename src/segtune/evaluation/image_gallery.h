// What the report's gallery is made of, for every task: each image's scores, and small pictures of
// the worst images (semantic_gallery.h, detection_gallery.h decide what "score" and "picture" mean).
//
// Memory stays bounded: only the `keep` worst pictures (10-20 KB each) are held, and a picture is
// drawn (its image decoded) only when its score puts it among them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace segtune {

struct ImageScore {
  std::string id;  // image/source_id, else the record ("test.record: record 3").
  // Named values in the order metrics.json lists them; the first ranks the images (lowest = worst).
  std::vector<std::pair<std::string, double>> values;
  double rank() const { return values.empty() ? 0 : values.front().second; }
};

struct GalleryEntry {
  ImageScore score;
  std::string jpeg;  // The picture: at most kThumbnailHeight high.
};

constexpr int kThumbnailHeight = 160;
constexpr int kThumbnailPanelWidth = 240;  // Each panel of a [ground truth | prediction] picture.

// Keeps the `keep` lowest-ranked images' pictures.
class WorstImages {
 public:
  explicit WorstImages(size_t keep) : keep_(keep) {}
  // Records `score`; calls draw() for its picture (JPEG bytes) only if it ranks among the kept.
  void Offer(const ImageScore& score, const std::function<std::string()>& draw);
  const std::vector<ImageScore>& scores() const { return scores_; }
  // The kept pictures, worst first.
  std::vector<GalleryEntry> Worst() const;

 private:
  size_t keep_;
  std::vector<ImageScore> scores_;
  std::vector<GalleryEntry> kept_;  // A max-heap on rank: the best of the kept is on top.
};

// The size a panel of an image of `size` is drawn at: within kThumbnailPanelWidth x kThumbnailHeight,
// never enlarged.
cv::Size ThumbnailPanelSize(cv::Size size);
// [left | 4 px white | right] (same height) as JPEG quality 80. Throws Error if encoding fails.
std::string SideBySideJpeg(const cv::Mat& left, const cv::Mat& right);

// {"image_scores": [{"id", <values>...}] in input order,
//  "gallery": [{"id", <values>..., "thumbnail": "data:image/jpeg;base64,..."}] worst first,
//  "gallery_ranked_by": the name of the value that ranks them}.
nlohmann::json GalleryToJson(const std::vector<ImageScore>& scores, const std::vector<GalleryEntry>& worst);

}  // namespace segtune
