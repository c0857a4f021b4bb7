#include "segtune/data/convert/label_image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/png_decode.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

std::string Colour(uint32_t rgb) {
  return std::to_string(rgb >> 16) + "," + std::to_string((rgb >> 8) & 255) + "," + std::to_string(rgb & 255);
}

uint32_t RgbAt(const cv::Mat& bgr, int y, int x) {
  const uint8_t* p = bgr.ptr<uint8_t>(y) + x * bgr.channels();
  return uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

}  // namespace

LabelImage IndexByColour(const cv::Mat& bgr, const std::unordered_map<uint32_t, int>& index_of_rgb, const fs::path& path,
                         const std::string& table) {
  LabelImage out{bgr.cols, bgr.rows, std::vector<int32_t>(size_t(bgr.rows) * bgr.cols)};
  uint32_t last = 0xFFFFFFFF;
  int last_index = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      const uint32_t rgb = RgbAt(bgr, y, x);
      if (rgb != last) {
        const auto it = index_of_rgb.find(rgb);
        if (it == index_of_rgb.end()) {
          throw FormatError(path, "pixel (" + std::to_string(x) + ", " + std::to_string(y) + ")",
                            "colour " + Colour(rgb) + " is not in the " + table);
        }
        last = rgb, last_index = it->second;
      }
      out.values[size_t(y) * bgr.cols + x] = last_index;
    }
  }
  return out;
}

namespace {

// A non-interlaced gray or palette PNG's samples as class indices: palette indices themselves (not
// their colours, so a colour listed twice keeps both indices), gray values at their stored depth (1-,
// 2-, 4-bit values as 0..1, 0..3, 0..15). nullopt if formats/png_decode.h leaves the PNG to OpenCV.
std::optional<LabelImage> PngIndices(std::string_view png, const fs::path& path, bool allow_16bit) {
  const std::optional<PngSamples> samples = DecodePngSamples(png, path.string(), "");
  if (!samples) return std::nullopt;
  if (samples->bit_depth == 16 && !allow_16bit) throw FormatError(path, "", "expected 8-bit pixels (class indices)");
  return LabelImage{samples->width, samples->height, std::vector<int32_t>(samples->samples.begin(), samples->samples.end())};
}

// An interlaced palette PNG's pixels, which OpenCV decodes to colours, back to indices. A colour
// listed twice maps to its first index: the two cannot be told apart after decoding.
LabelImage FromPalette(const cv::Mat& decoded, const std::vector<uint32_t>& palette, const fs::path& path) {
  cv::Mat bgr = decoded;
  if (decoded.channels() == 4) cv::cvtColor(decoded, bgr, cv::COLOR_BGRA2BGR);
  if (bgr.channels() != 3) throw FormatError(path, "", "palette PNG not decoded to colours: its indices cannot be recovered");
  std::unordered_map<uint32_t, int> index;
  for (size_t i = 0; i < palette.size(); ++i) index.emplace(palette[i], static_cast<int>(i));
  return IndexByColour(bgr, index, path, "PNG palette");
}

}  // namespace

LabelImage ReadIndexMask(const fs::path& path, bool allow_16bit) {
  const std::string bytes = ReadFile(path);
  const std::optional<PngLayout> png = ReadPngLayout(bytes);
  if (png && !png->interlaced && (png->colour_type == 0 || png->colour_type == 3)) {  // The types that hold indices.
    if (std::optional<LabelImage> indices = PngIndices(bytes, path, allow_16bit)) return std::move(*indices);
  }
  // Interlaced PNGs and other formats through OpenCV: libpng widens 1-, 2- and 4-bit gray to 8 bits by
  // repeating the bits (value 1 of a 1-bit mask arrives as 255, which would read as ignore), so those
  // are scaled back; palette PNGs arrive as colours, whose indices are gone.
  const cv::Mat m = DecodeImageBytes(bytes, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION, path.string(), "");
  if (png && png->colour_type == 3) return FromPalette(m, ReadPngPalette(bytes, path.string(), ""), path);
  const int depth = png && png->colour_type == 0 ? png->bit_depth : 8;
  const int low_bit_scale = depth == 1 ? 255 : depth == 2 ? 85 : depth == 4 ? 17 : 1;
  if (m.channels() != 1) {
    throw FormatError(path, "", "a " + std::to_string(m.channels()) + "-channel image: expected an 8-bit class-index "
                      "(gray or palette) PNG; colour masks need a colour table (labelmap.txt or class_dict.csv)");
  }
  if (m.depth() != CV_8U && !(allow_16bit && m.depth() == CV_16U)) {
    throw FormatError(path, "", "expected 8-bit pixels (class indices)");
  }
  LabelImage out{m.cols, m.rows, std::vector<int32_t>(size_t(m.rows) * m.cols)};
  for (int y = 0; y < m.rows; ++y) {
    int32_t* row = out.values.data() + size_t(y) * m.cols;
    if (m.depth() == CV_8U) {
      const uint8_t* p = m.ptr<uint8_t>(y);
      if (low_bit_scale == 1) {
        for (int x = 0; x < m.cols; ++x) row[x] = p[x];
      } else {
        for (int x = 0; x < m.cols; ++x) row[x] = p[x] / low_bit_scale;
      }
    } else {
      const uint16_t* p = m.ptr<uint16_t>(y);
      for (int x = 0; x < m.cols; ++x) row[x] = p[x];
    }
  }
  return out;
}

LabelImage ReadColourMask(const fs::path& path, const std::unordered_map<uint32_t, int>& index_of_rgb,
                          const std::string& table) {
  return IndexByColour(DecodeImageFile(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION), index_of_rgb, path, table);
}

LabelImage ReadAde20kSegMask(const fs::path& path) {
  const cv::Mat m = DecodeImageFile(path, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  if (m.depth() != CV_8U || (m.channels() != 3 && m.channels() != 4)) {
    throw FormatError(path, "", "expected an 8-bit RGB ADE20K _seg.png (class = R / 10 * 256 + G, instance = B), "
                      "found " + std::to_string(m.channels()) + " channel(s) of " + std::to_string(m.elemSize1() * 8) + " bits");
  }
  LabelImage out{m.cols, m.rows, std::vector<int32_t>(size_t(m.rows) * m.cols)};
  for (int y = 0; y < m.rows; ++y) {
    const uint8_t* p = m.ptr<uint8_t>(y);
    int32_t* row = out.values.data() + size_t(y) * m.cols;
    for (int x = 0; x < m.cols; ++x, p += m.channels()) {  // OpenCV's order: B, G, R.
      row[x] = ((p[2] / 10) * 256 + p[1]) * 256 + p[0];
    }
  }
  return out;
}

std::map<int32_t, Rle> RlesByValue(const LabelImage& image) {
  std::map<int32_t, Rle> out;
  const uint32_t h = image.height, w = image.width, n = h * w;
  if (n == 0) return out;
  // Runs go down columns (pycocotools): walk a transposed copy (cv::transpose is cache-blocked; a
  // column walk of a 2048-wide row-major image misses the cache at every pixel).
  cv::Mat columns;
  cv::transpose(cv::Mat(int(h), int(w), CV_32S, const_cast<int32_t*>(image.values.data())), columns);
  const int32_t* v = columns.ptr<int32_t>(0);
  // Each value's RLE gets a 0-run up to where its run starts, then the run.
  struct Building {
    Rle rle;
    uint32_t end = 0;  // Index after its last run.
  };
  std::map<int32_t, Building> building;
  uint32_t run_start = 0;
  for (uint32_t i = 1; i <= n; ++i) {
    if (i < n && v[i] == v[run_start]) continue;
    Building& b = building[v[run_start]];
    b.rle.counts.push_back(run_start - b.end);
    b.rle.counts.push_back(i - run_start);
    b.end = i;
    run_start = i;
  }
  for (auto& [value, b] : building) {
    if (b.end < n) b.rle.counts.push_back(n - b.end);
    b.rle.h = h, b.rle.w = w;
    out.emplace(value, std::move(b.rle));
  }
  return out;
}

}  // namespace segtune
