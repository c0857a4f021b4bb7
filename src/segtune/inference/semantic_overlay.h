// The picture a person looks at after inference: the image with each predicted class tinted in its
// own color, region outlines, and a legend strip below naming the classes present (torch-free).
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace segtune {

// image: CV_8UC3 BGR; class_map: CV_8UC1 of the same size. Returns a BGR canvas: the tinted image at
// the top left, and below it a legend strip (one line per class present, excluding background, sorted
// by id: color swatch, "id name  pct%"; "no class predicted" when there is none). The legend's font
// and swatches scale with the image's longer side (font scale 0.45 at <= 450 px, up to 1.6), and the
// canvas is widened to fit the legend's text when the image is narrower (padding in the strip's dark
// gray). names[i] names class i; missing names print as "class i". Throws Error on mismatched inputs.
cv::Mat RenderOverlay(const cv::Mat& image, const cv::Mat& class_map, const std::vector<std::string>& names,
                      double alpha = 0.5);

}  // namespace segtune
