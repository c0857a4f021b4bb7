// Post-processing of one predicted class map into what `segtune infer` records: per-class pixel
// fractions and one detection per connected region of a predicted class (torch-free).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace segtune {

// One connected region (8-connectivity) of pixels predicted as `label`.
struct PredictedRegion {
  int64_t label = 0;
  // Pixel box: columns [x, x + width), rows [y, y + height).
  int x = 0, y = 0, width = 0, height = 0;
  int64_t area = 0;   // Pixels in the region.
  float score = 0;    // Mean softmax probability of `label` over the region's pixels.
  std::string rle;    // COCO compressed RLE counts of the region (full image size); with_rle only.
};

// Fraction of all pixels predicted as each class, indexed by class id (size num_classes).
// Requires class_map CV_8UC1 with values < num_classes.
std::vector<float> ClassFractions(const cv::Mat& class_map, int num_classes);

// Connected regions of every class in [first_class, num_classes), in class order then component order
// (OpenCV's label order: raster order of each region's first pixel). class_map: CV_8UC1; probability:
// CV_32FC1 of the same size holding the softmax probability of the predicted class at each pixel.
// Class 0 is background by convention, so `segtune infer` passes first_class = 1.
std::vector<PredictedRegion> FindPredictedRegions(const cv::Mat& class_map, const cv::Mat& probability,
                                                  int num_classes, int first_class = 1, bool with_rle = false);

}  // namespace segtune
