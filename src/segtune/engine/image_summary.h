// Image summaries for TensorBoard's Images tab from OpenCV images: the PNG encoding happens here, the
// event file format in formats/events.h (which takes encoded bytes and needs no OpenCV).
//
//   AddImageSummary(events, "overlay/0", bgr_mat, step);
#pragma once

#include <cstdint>
#include <string>

namespace cv {
class Mat;
}

namespace segtune {

class EventWriter;

// Writes `image` as a PNG image summary: 8-bit gray (CV_8UC1), BGR (CV_8UC3, OpenCV's order) or BGRA
// (CV_8UC4). Throws Error if the Mat is empty or of another type.
void AddImageSummary(EventWriter& events, const std::string& tag, const cv::Mat& image, int64_t step);

}  // namespace segtune
