#include "segtune/data/semantic_target.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "segtune/core/error.h"
#include "segtune/data/image_decode.h"

namespace segtune {

namespace {

cv::Mat DecodeGray(const std::string& png, int height, int width, const std::string& source, const std::string& key) {
  cv::Mat mask = DecodeImageBytes(png, cv::IMREAD_UNCHANGED, source, key);
  if (mask.channels() != 1) throw FormatError(source, key, "expected a 1-channel (grayscale) PNG");
  if (mask.depth() != CV_8U) {
    // A 16-bit PNG is fine while its values fit a class id; converting would saturate 300 to 255 (ignore).
    double max_value = 0;
    cv::minMaxLoc(mask, nullptr, &max_value);
    if (max_value > 255) {
      throw FormatError(source, key, "holds the value " + std::to_string(static_cast<long long>(max_value)) +
                                         "; class ids are 0..255 (8-bit targets, 255 = ignore)");
    }
    mask.convertTo(mask, CV_8U);
  }
  if (mask.rows != height || mask.cols != width) {
    throw FormatError(source, key,
                      "mask is " + std::to_string(mask.cols) + "x" + std::to_string(mask.rows) + " but the image is " +
                          std::to_string(width) + "x" + std::to_string(height));
  }
  return mask;
}

// The class of object k, as stored (int64: range-checked by the caller, never narrowed first).
int64_t ObjectClass(const ObjectDetectionExample& ex, size_t k, const std::map<std::string, int>& class_ids,
                    const std::string& source) {
  if (k < ex.class_label.size()) return ex.class_label[k];
  if (k < ex.class_text.size()) {
    const auto it = class_ids.find(ex.class_text[k]);
    if (it != class_ids.end()) return it->second;
    throw FormatError(source, "image/object/class/text",
                      "object " + std::to_string(k) + " has class '" + ex.class_text[k] + "', not in the label map");
  }
  throw FormatError(source, "image/object/class/label", "object " + std::to_string(k) + " has no class");
}

}  // namespace

cv::Mat SemanticTarget(const ObjectDetectionExample& ex, int height, int width, const std::string& source,
                       const std::map<std::string, int>& class_ids) {
  if (!ex.semantic_mask.empty()) {
    return DecodeGray(ex.semantic_mask, height, width, source, "image/segmentation/class/encoded");
  }
  if (ex.instance_masks.empty()) {
    throw FormatError(source, "",
                      "no semantic mask (image/segmentation/class/encoded) and no instance masks "
                      "(image/object/mask): cannot train segmentation on boxes alone; write the records "
                      "with masks (coco2tfrecord includes them)");
  }
  cv::Mat target(height, width, CV_8UC1, cv::Scalar(0));
  for (size_t k = 0; k < ex.instance_masks.size(); ++k) {
    const cv::Mat mask = DecodeGray(ex.instance_masks[k], height, width, source,
                                    "image/object/mask[" + std::to_string(k) + "]");
    const bool crowd = k < ex.is_crowd.size() && ex.is_crowd[k] != 0;
    const int64_t cls = crowd ? 255 : ObjectClass(ex, k, class_ids, source);
    if (cls < 0 || cls > 255) {
      throw FormatError(source, "image/object/class/label[" + std::to_string(k) + "]",
                        "class id " + std::to_string(cls) + " is outside 0..255 (8-bit targets, 255 = ignore)");
    }
    target.setTo(cv::Scalar(static_cast<double>(cls)), mask > 0);
  }
  return target;
}

}  // namespace segtune
