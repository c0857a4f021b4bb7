// The one colour per class every picture segtune draws uses (overlays, detection boxes, TensorBoard
// images, the report's gallery), so a class looks the same everywhere.
#pragma once

#include <opencv2/core.hpp>

namespace segtune {

// Pascal VOC's colour map (BGR): background 0 is black, ids 1..254 get distinct, stable colours and
// 255 (the usual ignore label) VOC's void colour, light beige.
cv::Vec3b ClassColor(int label);

}  // namespace segtune
