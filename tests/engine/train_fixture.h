// Generated segmentation datasets for trainer tests: TFRecords whose images are a flat background
// with class-colored rectangles, and the matching DeepLab-style semantic PNG.
#pragma once

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"

namespace segtune::testing {

inline std::string EncodePng(const cv::Mat& m) {
  std::vector<uchar> png;
  cv::imencode(".png", m, png);
  return std::string(png.begin(), png.end());
}

// `count` images of size x size; class 1 = red rectangle, class 2 = blue rectangle, placed on an
// 8-pixel grid; a few ignore (255) pixels on the border of image 0.
inline void WriteShapesRecords(const std::filesystem::path& path, int count, int size, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  TFRecordWriter writer(path);
  for (int i = 0; i < count; ++i) {
    cv::Mat bgr(size, size, CV_8UC3, cv::Scalar(90, 160, 90));
    cv::Mat label(size, size, CV_8UC1, cv::Scalar(0));
    const int cells = size / 8;
    for (int cls = 1; cls <= 2; ++cls) {
      const int w = 2 + static_cast<int>(rng() % (cells / 2 - 1)), h = 2 + static_cast<int>(rng() % (cells / 2 - 1));
      const int x = static_cast<int>(rng() % (cells - w + 1)), y = static_cast<int>(rng() % (cells - h + 1));
      const cv::Rect r(x * 8, y * 8, w * 8, h * 8);
      bgr(r).setTo(cls == 1 ? cv::Scalar(40, 40, 230) : cv::Scalar(220, 60, 30));
      label(r).setTo(cv::Scalar(cls));
    }
    if (i == 0) label.row(0).setTo(cv::Scalar(255));
    ObjectDetectionExample ex;
    ex.encoded = EncodePng(bgr);
    ex.format = "png";
    ex.filename = "img" + std::to_string(i) + ".png";
    ex.source_id = std::to_string(i);
    ex.height = size;
    ex.width = size;
    ex.semantic_mask = EncodePng(label);
    ex.semantic_mask_format = "png";
    writer.Write(ToExample(ex).SerializeAsString());
  }
  writer.Close();
}

inline void WriteLabelMap(const std::filesystem::path& path) {
  WriteFileAtomic(path, "item { id: 1 name: 'red' }\nitem { id: 2 name: 'blue' }\n");
}

}  // namespace segtune::testing
