// Label images of semantic mask folders, decoded to one integer per pixel: class-index PNGs
// (8-bit gray, or palette PNGs whose indices OpenCV turns into colours and we turn back), 16-bit
// Cityscapes instanceIds, and RGB colour masks looked up in a colour table. Then cut into one RLE
// per value. docs/formats.md §17.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <opencv2/core.hpp>

#include "segtune/formats/rle.h"

namespace segtune {

struct LabelImage {
  int width = 0;
  int height = 0;
  std::vector<int32_t> values;  // Row-major.
};

// A class-index mask: 8-bit gray values as they are; a palette PNG's pixels as palette indices (as
// stored: two entries of one colour stay two classes); 1-, 2- and 4-bit gray as stored (0..15);
// 16-bit gray only when `allow_16bit` (Cityscapes instanceIds). Throws FormatError naming the file
// for other kinds (RGB without a palette, alpha) or undecodable bytes.
LabelImage ReadIndexMask(const std::filesystem::path& path, bool allow_16bit);

// A colour mask: each pixel's colour (0xRRGGBB) looked up in `index_of_rgb`. Throws FormatError
// naming the file, the first pixel (x, y) and the colour when a colour is not in the table (`table`
// names it in the message).
LabelImage ReadColourMask(const std::filesystem::path& path, const std::unordered_map<uint32_t, int>& index_of_rgb,
                          const std::string& table = "colour table");
// The same for an image already decoded (BGR, 3 or 4 channels); `path` names it in errors.
LabelImage IndexByColour(const cv::Mat& bgr, const std::unordered_map<uint32_t, int>& index_of_rgb,
                         const std::filesystem::path& path, const std::string& table);

// The full ADE20K dataset's `*_seg.png`: an 8-bit RGB PNG where a pixel's class is R / 10 * 256 + G
// (integer division) and B tells its object (instance) apart from others. Each value is
// class * 256 + B. Throws FormatError naming the file for a gray, 16-bit or undecodable image.
LabelImage ReadAde20kSegMask(const std::filesystem::path& path);

// One RLE (pycocotools layout) per value present in the image, made in one pass.
std::map<int32_t, Rle> RlesByValue(const LabelImage& image);

}  // namespace segtune
