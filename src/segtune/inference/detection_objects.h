// What `segtune infer` records for one image of a detection model (torch-free): the detected
// objects, their infer_detections keys in the output Example, and their COCO results entries.
//
// Keys added to the Example (TF OD API infer_detections layout, docs/detection.md):
//   image/detection/bbox/{ymin,xmin,ymax,xmax}  floats  normalized by the image height/width
//   image/detection/score                       floats
//   image/detection/label                       int64   class id (the label map's id)
//   image/detection/mask                        bytes   Mask R-CNN only: one 8-bit gray PNG per
//                                                       detection, image size, pixels 0/1 (as
//                                                       image/object/mask)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "example.pb.h"

namespace segtune {

inline constexpr const char* kDetectionMaskKey = "image/detection/mask";

struct DetectedObject {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // Pixels of the original image.
  float score = 0;
  int64_t label = 0;
  cv::Mat mask;  // CV_8UC1 0/1 at the image size (probability > 0.5); empty for box-only models.
};

// Adds the keys above (replacing earlier values) for an image of `height` x `width` pixels; the
// mask key only when the objects carry masks. Drops image/encoded when discard_image_pixels.
void AddDetectionKeys(tensorflow::Example* example, const std::vector<DetectedObject>& objects, int height,
                      int width, bool with_masks, bool discard_image_pixels);

// The image id COCO results use for an Example: image/source_id as a number when it is all digits,
// else as a string; `fallback` when the Example has no source id.
nlohmann::json CocoImageId(const tensorflow::Example& example, const std::string& fallback);

// One COCO result per object: image_id, category_id (= label), bbox [x, y, w, h] in pixels, score,
// and with masks a compressed-RLE segmentation at the image size.
nlohmann::json CocoDetectionResults(const std::vector<DetectedObject>& objects, const nlohmann::json& image_id);

}  // namespace segtune
