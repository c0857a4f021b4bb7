// The picture a person looks at after detection inference (torch-free): each object's mask tinted
// in its class color, its box outlined in the same color, and a label "name 0.87" above the box.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "segtune/inference/detection_objects.h"

namespace segtune {

// image: CV_8UC3 BGR; object masks (if any) CV_8UC1 at the image size. Colors are ClassColor(label)
// (data/class_colors.h); names[label] names the class ("class <id>" when missing or empty). Objects are
// drawn lowest score first so the most confident ones end on top. Line width and font scale with
// the image's longer side. Returns a new BGR image of the same size.
cv::Mat RenderDetectionOverlay(const cv::Mat& image, const std::vector<DetectedObject>& objects,
                               const std::vector<std::string>& names, double alpha = 0.5);

}  // namespace segtune
