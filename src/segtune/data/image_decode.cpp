#include "segtune/data/image_decode.h"

#include <climits>
#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/formats/image_header.h"

namespace segtune {

cv::Mat DecodeImageBytes(std::string_view bytes, int flags, const std::string& source, const std::string& key) {
  CheckImageHeader(bytes, source, key);
  if (bytes.size() > size_t(INT_MAX)) throw FormatError(source, key, "image of more than 2 GiB of encoded bytes");
  cv::Mat image;
  try {
    // imdecode only reads the buffer; the const_cast is for cv::Mat's constructor.
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    image = DecodeWithOpenCv(raw, flags);
  } catch (const cv::Exception& e) {
    throw FormatError(source, key, "image does not decode (OpenCV: " + e.err + ")");
  }
  if (image.empty()) throw FormatError(source, key, "image does not decode (truncated or corrupt data)");
  return image;
}

cv::Mat DecodeImageFile(const std::filesystem::path& path, int flags) {
  return DecodeImageBytes(ReadFile(path), flags, path.string(), "");
}

void DecodeGray(std::string_view bytes, const std::string& source, const std::string& key, std::vector<uint8_t>* pixels,
                int* height, int* width) {
  cv::Mat image = DecodeImageBytes(bytes, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION, source, key);
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U);
  if (image.channels() == 3) cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2GRAY);
  *height = image.rows;
  *width = image.cols;
  pixels->resize(size_t(image.rows) * image.cols);
  for (int y = 0; y < image.rows; ++y) std::memcpy(pixels->data() + size_t(y) * image.cols, image.ptr(y), image.cols);
}

}  // namespace segtune
