// Per-image scores of a semantic evaluation and small pictures of the worst images, so a person
// sees where the model fails (the report's gallery) instead of only the dataset-wide mIoU.
//
//   SemanticGallery gallery(num_classes, ignore_label, /*keep=*/48);
//   for (each image) gallery.Add(id, groundtruth, prediction, [&] { return DecodeTheImage(); });
//   metrics["images"] = ...; metrics["gallery"] = ...;   // GalleryToJson
//
// Memory stays bounded: only the `keep` worst thumbnails (about 20 KB each) are held, and an image
// is decoded only when its score puts it among them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace segtune {

struct ImageScore {
  std::string id;         // image/source_id, else the record ("test.record: record 3").
  double mean_iou = 0;    // Over the classes in the image's ground truth or prediction.
  double pixel_accuracy = 0;
};

struct GalleryEntry {
  ImageScore score;
  std::string jpeg;  // [ground truth over image | prediction over image], at most kThumbnailHeight high.
};

class SemanticGallery {
 public:
  static constexpr int kThumbnailHeight = 160;
  static constexpr int kThumbnailPanelWidth = 240;  // Each of the two panels.

  SemanticGallery(int num_classes, int ignore_label, size_t keep);

  // Scores one image from its CV_8UC1 class maps (same size; ground-truth pixels equal to the
  // ignore label do not count). `image` returns the BGR image (any size: it is resized to the
  // maps), or an empty Mat (the panels then show the classes on black); it is called only when the
  // image ranks among the `keep` worst so far. Images with no counted pixel are not scored.
  void Add(const std::string& id, const cv::Mat& groundtruth, const cv::Mat& prediction,
           const std::function<cv::Mat()>& image);

  const std::vector<ImageScore>& scores() const { return scores_; }
  // The kept thumbnails, worst (lowest mean IoU) first.
  std::vector<GalleryEntry> Worst() const;

 private:
  int num_classes_;
  int ignore_label_;
  size_t keep_;
  std::vector<ImageScore> scores_;
  std::vector<GalleryEntry> worst_;  // A max-heap on mean_iou: the best of the kept is on top.
};

// {"images": [{"id", "mean_iou", "pixel_accuracy"}] in input order,
//  "gallery": [{"id", "mean_iou", "pixel_accuracy", "thumbnail": "data:image/jpeg;base64,..."}] worst first}.
nlohmann::json GalleryToJson(const std::vector<ImageScore>& scores, const std::vector<GalleryEntry>& worst);

}  // namespace segtune
