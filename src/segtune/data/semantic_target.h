// The per-pixel training target of one record: class id per pixel, 0 background, 255 ignore.
#pragma once

#include <map>
#include <string>

#include <opencv2/core.hpp>

#include "segtune/formats/od_example.h"

namespace segtune {

// Builds the label map (CV_8UC1, height x width of the decoded image):
//  - from `image/segmentation/class/encoded` (DeepLab's key) when present: the PNG as-is;
//  - else rasterized from the instance masks `image/object/mask` (pixels > 0), in record order (a later
//    object overwrites an earlier one where they overlap); the class is image/object/class/label, or
//    class_ids[image/object/class/text] when labels are missing; crowd objects (is_crowd) become 255.
// Throws FormatError naming `source` when the record has neither, a PNG does not decode, or its size
// differs from height x width.
cv::Mat SemanticTarget(const ObjectDetectionExample& example, int height, int width, const std::string& source,
                       const std::map<std::string, int>& class_ids = {});

}  // namespace segtune
