// The gallery of a semantic evaluation (image_gallery.h): each image scored by its own mean IoU, the
// worst drawn as [ground truth over image | prediction over image].
//
//   SemanticGallery gallery(num_classes, ignore_label, /*keep=*/48);
//   for (each image) gallery.Add(id, groundtruth, prediction, [&] { return DecodeTheImage(); });
//   GalleryToJson(gallery.scores(), gallery.Worst());
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "segtune/evaluation/image_gallery.h"

namespace segtune {

class SemanticGallery {
 public:
  SemanticGallery(int num_classes, int ignore_label, size_t keep);

  // Scores one image from its CV_8UC1 class maps (same size; ground-truth pixels equal to the
  // ignore label, and ids >= num_classes, do not count): "mean_iou" over the classes the image's
  // ground truth or prediction has (a class neither has does not count as 0), then
  // "pixel_accuracy". `image` returns the BGR image (resized to the maps if needed), or an empty Mat
  // (the panels then show the classes on black); it is called only when the image ranks among the
  // `keep` worst so far. Images with no counted pixel are not scored.
  void Add(const std::string& id, const cv::Mat& groundtruth, const cv::Mat& prediction,
           const std::function<cv::Mat()>& image);

  const std::vector<ImageScore>& scores() const { return worst_.scores(); }
  std::vector<GalleryEntry> Worst() const { return worst_.Worst(); }

 private:
  int num_classes_;
  int ignore_label_;
  WorstImages worst_;
};

}  // namespace segtune
