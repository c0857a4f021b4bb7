// What `segtune infer --masks-dir` writes for a Mask R-CNN model: one instance-index PNG per image,
// readable with any image library (docs/inference.md).
//
// Pixel value k (1-based) = the k-th detection of the image in the order of its output record's
// image/detection/* lists and of its entries in --coco-results (highest score first); 0 = no
// detection. Where masks overlap, the pixel shows the earlier detection (the higher score), as a
// person reading the picture would rank them. Class of k: image/detection/label[k - 1].
// 8-bit gray when the image has at most 255 detections, else 16-bit gray (so k never wraps).
#pragma once

#include <string>
#include <vector>

#include "segtune/inference/detection_objects.h"

namespace segtune {

// The PNG bytes for `objects` (each with a CV_8UC1 0/1 mask of height x width). Throws Error if an
// object has no mask or a mask of another size.
std::string EncodeInstanceIndexPng(const std::vector<DetectedObject>& objects, int height, int width);

}  // namespace segtune
