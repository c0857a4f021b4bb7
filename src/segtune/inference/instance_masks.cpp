#include "segtune/inference/instance_masks.h"

#include <limits>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/formats/image_codec.h"

namespace segtune {
namespace {

// Paints detections from the last to the first, so the first (highest score) ends on top.
cv::Mat IndexMap(const std::vector<DetectedObject>& objects, int height, int width, int type) {
  cv::Mat index = cv::Mat::zeros(height, width, type);
  for (size_t k = objects.size(); k-- > 0;) {
    const cv::Mat& mask = objects[k].mask;
    if (mask.rows != height || mask.cols != width || mask.type() != CV_8UC1) {
      throw Error("instance mask " + std::to_string(k + 1) + ": expected " + std::to_string(height) + "x" +
                  std::to_string(width) + " 8-bit, got " + std::to_string(mask.rows) + "x" + std::to_string(mask.cols));
    }
    index.setTo(cv::Scalar(static_cast<double>(k + 1)), mask);
  }
  return index;
}

}  // namespace

std::string EncodeInstanceIndexPng(const std::vector<DetectedObject>& objects, int height, int width) {
  if (objects.size() <= std::numeric_limits<uint8_t>::max()) {
    const cv::Mat index = IndexMap(objects, height, width, CV_8UC1);
    return EncodeGrayPng(index.data, height, width);  // The same encoder as the semantic class maps.
  }
  if (objects.size() > std::numeric_limits<uint16_t>::max()) {
    throw Error("instance masks: " + std::to_string(objects.size()) + " detections do not fit a 16-bit PNG");
  }
  std::vector<uint8_t> png;
  if (!EncodeWithOpenCv(".png", IndexMap(objects, height, width, CV_16UC1), &png)) {
    throw Error("instance masks: the 16-bit PNG encoder failed");
  }
  return std::string(png.begin(), png.end());
}

}  // namespace segtune
