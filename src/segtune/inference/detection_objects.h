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
// mask key only when with_masks (then every object carries a mask). Semantic inference writes its
// regions' boxes with this too, without masks.
void AddDetectionKeys(tensorflow::Example* example, const std::vector<DetectedObject>& objects, int height,
                      int width, bool with_masks);

// One COCO result per object, without "image_id" (the pipeline adds it once the image's name is
// final, inference_pipeline.h): category_id (= label), bbox [x, y, w, h] in pixels, score, and with
// masks a compressed-RLE segmentation at the image size.
nlohmann::json CocoDetectionResults(const std::vector<DetectedObject>& objects);

}  // namespace segtune
