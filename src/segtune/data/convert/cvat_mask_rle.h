// CVAT's mask RLE (the `rle` attribute of a CVAT for images 1.1 <mask>, docs/formats.md §15) and the
// conversion to and from COCO RLE in image size.
//
// CVAT encodes only the mask's own box: `left`, `top`, `width`, `height` place it in the image, and
// `rle` is a list of run lengths over that box's width x height pixels in row-major order, starting
// with a (possibly empty) run of background and alternating. COCO's runs go down columns over the
// whole image, so the conversion goes through a decoded buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "segtune/formats/rle.h"

namespace segtune {

struct CvatMaskRle {
  std::vector<uint32_t> counts;  // Alternating runs, background first.
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
};

// Parses "3, 5, 1" (CVAT writes ", " between numbers; any mix of commas and spaces is accepted).
// Throws FormatError(where + ...) on anything but non-negative integers.
std::vector<uint32_t> ParseCvatRleCounts(const std::string& text, const std::string& where);

// The COCO RLE of the mask in an image_height x image_width image. Throws FormatError(where + ...) if
// the runs do not sum to width*height or the box does not lie inside the image.
Rle CvatMaskToRle(const CvatMaskRle& mask, int image_height, int image_width, const std::string& where);

// The CVAT mask of `rle`, cut to the tight box of its foreground. An empty mask gives width 0 and no
// counts.
CvatMaskRle RleToCvatMask(const Rle& rle);

// "3, 5, 1", as CVAT writes it.
std::string FormatCvatRleCounts(const std::vector<uint32_t>& counts);

}  // namespace segtune
