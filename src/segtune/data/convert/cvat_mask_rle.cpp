#include "segtune/data/convert/cvat_mask_rle.h"

#include <algorithm>
#include <cstdlib>

#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"

namespace segtune {

std::vector<uint32_t> ParseCvatRleCounts(const std::string& text, const std::string& where) {
  std::vector<uint32_t> counts;
  size_t i = 0;
  const auto separator = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size()) {
    while (i < text.size() && separator(text[i])) ++i;
    if (i == text.size()) break;
    const size_t begin = i;
    uint64_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && value <= UINT32_MAX) value = value * 10 + uint64_t(text[i++] - '0');
    if (i == begin || value > UINT32_MAX || (i < text.size() && !separator(text[i]))) {
      throw FormatError(where + ": rle: expected comma-separated run lengths (non-negative integers), got '" +
                        text.substr(begin, 20) + "' at character " + std::to_string(begin + 1));
    }
    counts.push_back(uint32_t(value));
  }
  return counts;
}

namespace {

// COCO RLE counts built run by run: alternating background / foreground lengths, starting with
// background (a leading 0 when the first pixel is foreground).
class RunBuilder {
 public:
  void Add(uint8_t value, uint64_t length) {
    if (length == 0) return;
    if (value != current_) {
      counts_.push_back(uint32_t(run_));
      current_ = value, run_ = 0;
    }
    run_ += length;
  }
  std::vector<uint32_t> Finish() {
    counts_.push_back(uint32_t(run_));
    return std::move(counts_);
  }

 private:
  std::vector<uint32_t> counts_;
  uint8_t current_ = 0;
  uint64_t run_ = 0;
};

// The image-sized RLE of `box` (column-major box pixels placed at mask.left/top), without drawing
// the image: zeros before and after the box's columns, and above and below it in each of them.
Rle BoxToImageRle(const std::vector<uint8_t>& box, const CvatMaskRle& mask, uint32_t image_height, uint32_t image_width) {
  RunBuilder runs;
  const uint64_t h = image_height;
  runs.Add(0, uint64_t(mask.left) * h);
  for (int x = 0; x < mask.width; ++x) {
    runs.Add(0, uint64_t(mask.top));
    const uint8_t* column = box.data() + size_t(x) * size_t(mask.height);
    for (int y = 0; y < mask.height; ++y) runs.Add(column[y], 1);
    runs.Add(0, h - uint64_t(mask.top) - uint64_t(mask.height));
  }
  runs.Add(0, uint64_t(image_width - uint32_t(mask.left) - uint32_t(mask.width)) * h);
  return Rle{image_height, image_width, runs.Finish()};
}

}  // namespace

Rle CvatMaskToRle(const CvatMaskRle& mask, int image_height, int image_width, const std::string& where) {
  if (mask.width <= 0 || mask.height <= 0 || mask.left < 0 || mask.top < 0 ||
      int64_t(mask.left) + mask.width > image_width || int64_t(mask.top) + mask.height > image_height) {
    throw FormatError(where + ": mask box left=" + std::to_string(mask.left) + " top=" + std::to_string(mask.top) +
                      " width=" + std::to_string(mask.width) + " height=" + std::to_string(mask.height) +
                      " is empty or not inside the " + std::to_string(image_width) + "x" +
                      std::to_string(image_height) + " image");
  }
  // The mask is drawn at the image's size: the same pixel limit as decoding an image.
  const int64_t max_pixels = GetInputLimits().max_image_pixels;
  if (int64_t(image_width) * int64_t(image_height) > max_pixels) {
    throw FormatError(where + ": a mask in a " + std::to_string(image_width) + "x" + std::to_string(image_height) +
                      " image has more than " + std::to_string(max_pixels) +
                      " pixels (the --max-pixels limit; raise it for larger images)");
  }
  uint64_t sum = 0;
  for (uint32_t c : mask.counts) sum += c;
  const uint64_t box_pixels = uint64_t(mask.width) * uint64_t(mask.height);
  if (sum != box_pixels) {
    throw FormatError(where + ": rle: run lengths sum to " + std::to_string(sum) + ", expected width*height = " +
                      std::to_string(box_pixels));
  }
  // The box's pixels only (not the image's: a small object in a large photo costs its own size),
  // stored column by column, the order COCO's RLE runs in.
  const size_t box_w = size_t(mask.width), box_h = size_t(mask.height);
  std::vector<uint8_t> box(box_w * box_h, 0);
  uint64_t offset = 0;  // Within the box, row-major.
  for (size_t run = 0; run < mask.counts.size(); ++run) {
    const uint64_t end = offset + mask.counts[run];
    if (run % 2 == 1) {
      for (uint64_t p = offset; p < end; ++p) box[size_t(p % box_w) * box_h + size_t(p / box_w)] = 1;
    }
    offset = end;
  }
  return BoxToImageRle(box, mask, uint32_t(image_height), uint32_t(image_width));
}

CvatMaskRle RleToCvatMask(const Rle& rle) {
  CvatMaskRle mask;
  const auto box = RleToBbox(rle);
  if (box[2] <= 0 || box[3] <= 0) return mask;
  mask.left = int(box[0]), mask.top = int(box[1]), mask.width = int(box[2]), mask.height = int(box[3]);
  std::vector<uint8_t> pixels(size_t(rle.h) * size_t(rle.w));
  RleDecode(rle, pixels.data());
  uint8_t current = 0;
  uint32_t run = 0;
  for (int y = mask.top; y < mask.top + mask.height; ++y) {
    for (int x = mask.left; x < mask.left + mask.width; ++x) {
      const uint8_t v = pixels[size_t(y) * rle.w + size_t(x)] ? 1 : 0;
      if (v != current) {
        mask.counts.push_back(run);
        run = 0;
        current = v;
      }
      ++run;
    }
  }
  mask.counts.push_back(run);
  return mask;
}

std::string FormatCvatRleCounts(const std::vector<uint32_t>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(counts[i]);
  }
  return out;
}

}  // namespace segtune
