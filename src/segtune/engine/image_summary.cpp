#include "segtune/engine/image_summary.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string_view>
#include <vector>

#include "segtune/core/error.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/formats/events.h"

namespace segtune {

void AddImageSummary(EventWriter& events, const std::string& tag, const cv::Mat& image, int64_t step) {
  if (image.empty()) throw Error("AddImageSummary(" + tag + "): empty image");
  // PNG stores channels in RGB order; OpenCV's encoder takes BGR(A) and swaps for us.
  int colorspace = 0;
  switch (image.type()) {
    case CV_8UC1: colorspace = 1; break;
    case CV_8UC3: colorspace = 3; break;
    case CV_8UC4: colorspace = 4; break;
    default: throw Error("AddImageSummary(" + tag + "): expected an 8-bit 1, 3 or 4 channel image");
  }
  std::vector<uchar> png;
  if (!EncodeWithOpenCv(".png", image, &png)) throw Error("AddImageSummary(" + tag + "): PNG encoding failed");
  events.AddEncodedImage(tag, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()), image.rows,
                         image.cols, colorspace, step);
}

}  // namespace segtune
