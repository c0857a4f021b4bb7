#include "segtune/inference/semantic_regions.h"

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/formats/rle.h"

namespace segtune {

std::vector<float> ClassFractions(const cv::Mat& class_map, int num_classes) {
  std::vector<int64_t> counts(256, 0);
  for (int r = 0; r < class_map.rows; ++r) {
    const uint8_t* row = class_map.ptr<uint8_t>(r);
    for (int c = 0; c < class_map.cols; ++c) ++counts[row[c]];
  }
  const double total = static_cast<double>(class_map.total());
  std::vector<float> fractions(num_classes, 0.f);
  for (int k = 0; k < num_classes; ++k) fractions[k] = total > 0 ? static_cast<float>(counts[k] / total) : 0.f;
  return fractions;
}

namespace {

// Regions of one class: component stats plus the summed probability of each component.
void AddRegionsOfClass(const cv::Mat& class_map, const cv::Mat& probability, int label, bool with_rle,
                       std::vector<PredictedRegion>* regions) {
  cv::Mat mask = class_map == label;
  cv::Mat components, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, components, stats, centroids, 8, CV_32S);
  if (n <= 1) return;
  std::vector<double> probability_sum(n, 0.0);
  for (int r = 0; r < components.rows; ++r) {
    const int32_t* ids = components.ptr<int32_t>(r);
    const float* p = probability.ptr<float>(r);
    for (int c = 0; c < components.cols; ++c) probability_sum[ids[c]] += p[c];
  }
  for (int k = 1; k < n; ++k) {  // Component 0 is "not this class".
    PredictedRegion region;
    region.label = label;
    region.x = stats.at<int>(k, cv::CC_STAT_LEFT);
    region.y = stats.at<int>(k, cv::CC_STAT_TOP);
    region.width = stats.at<int>(k, cv::CC_STAT_WIDTH);
    region.height = stats.at<int>(k, cv::CC_STAT_HEIGHT);
    region.area = stats.at<int>(k, cv::CC_STAT_AREA);
    region.score = static_cast<float>(probability_sum[k] / static_cast<double>(region.area));
    if (with_rle) {
      const cv::Mat region_mask = components == k;
      region.rle = RleToString(RleEncode(region_mask.data, static_cast<uint32_t>(region_mask.rows),
                                         static_cast<uint32_t>(region_mask.cols)));
    }
    regions->push_back(region);
  }
}

}  // namespace

std::vector<PredictedRegion> FindPredictedRegions(const cv::Mat& class_map, const cv::Mat& probability,
                                                  int num_classes, int first_class, bool with_rle) {
  if (class_map.type() != CV_8UC1 || probability.type() != CV_32FC1 || class_map.size() != probability.size()) {
    throw Error("FindPredictedRegions: expected a CV_8UC1 class map and a CV_32FC1 probability map of the same size");
  }
  std::vector<bool> present(256, false);
  for (int r = 0; r < class_map.rows; ++r) {
    const uint8_t* row = class_map.ptr<uint8_t>(r);
    for (int c = 0; c < class_map.cols; ++c) present[row[c]] = true;
  }
  std::vector<PredictedRegion> regions;
  for (int label = std::max(0, first_class); label < num_classes && label < 256; ++label) {
    if (present[label]) AddRegionsOfClass(class_map, probability, label, with_rle, &regions);
  }
  return regions;
}

}  // namespace segtune
