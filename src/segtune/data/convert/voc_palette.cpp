#include "segtune/data/convert/voc_palette.h"

#include <unordered_map>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/data/class_colors.h"
#include "segtune/data/convert/label_image.h"
#include "segtune/data/image_decode.h"

namespace segtune {

const std::vector<PaletteColor>& VocColormap() {
  // The same colours segtune draws classes in (ClassColor, BGR), in RGB.
  static const std::vector<PaletteColor> colors = [] {
    std::vector<PaletteColor> out(256);
    for (int i = 0; i < 256; ++i) {
      const cv::Vec3b bgr = ClassColor(i);
      out[size_t(i)] = {bgr[2], bgr[1], bgr[0]};
    }
    return out;
  }();
  return colors;
}

const std::vector<std::string>& VocClassNames() {
  static const std::vector<std::string> names = {
      "background", "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",
      "car",        "cat",       "chair",   "cow",   "diningtable", "dog",    "horse",
      "motorbike",  "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
  return names;
}

std::vector<uint8_t> ReadIndexedMask(const std::filesystem::path& file, const std::vector<PaletteColor>& colors,
                                     int* height, int* width) {
  const cv::Mat image = DecodeImageFile(file, cv::IMREAD_UNCHANGED);
  if (image.depth() != CV_8U) throw FormatError(file, "", "expected an 8-bit mask PNG");
  *height = image.rows, *width = image.cols;
  std::vector<uint8_t> out(size_t(image.rows) * size_t(image.cols));
  if (image.channels() == 1) {
    for (int y = 0; y < image.rows; ++y) std::copy_n(image.ptr<uint8_t>(y), image.cols, &out[size_t(y) * image.cols]);
    return out;
  }
  if (colors.size() > 256) throw FormatError(file, "", "more than 256 class colours: indexes would not fit a byte");
  std::unordered_map<uint32_t, int> index_of;
  for (size_t i = colors.size(); i-- > 0;) index_of[uint32_t(colors[i].r) << 16 | uint32_t(colors[i].g) << 8 | colors[i].b] = int(i);
  const LabelImage indexes = IndexByColour(image, index_of, file, "VOC palette (or labelmap.txt)");
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(indexes.values[i]);  // Indexes of a 256-colour table.
  return out;
}

}  // namespace segtune
