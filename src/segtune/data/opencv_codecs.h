// OpenCV's image codecs (cv::imdecode, cv::imencode), loaded the first time an image is decoded or
// encoded.
//
// Why: libopencv_imgcodecs brings in GDAL and ~120 more libraries, all bound when loaded; loading it
// took 130-165 ms, most of a dataset verb's start-up, while most dataset work (convert, validate,
// split) reads image sizes from headers and never decodes a pixel. Everything in segtune that decodes
// or encodes with OpenCV calls these instead of cv::imdecode/cv::imencode (the segtune_data library
// does not link the codecs), so a process maps them only once it needs them.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace segtune {

// As cv::imdecode(bytes, flags): an empty Mat if OpenCV cannot decode the bytes. Throws Error if the
// codecs library cannot be loaded. Thread-safe.
cv::Mat DecodeWithOpenCv(const cv::Mat& bytes, int flags);

// As cv::imencode(extension, image, *bytes, params): false if OpenCV cannot encode the image. Throws
// Error if the codecs library cannot be loaded. Thread-safe.
bool EncodeWithOpenCv(const std::string& extension, const cv::Mat& image, std::vector<uchar>* bytes,
                      const std::vector<int>& params = {});

// Starts loading the codecs on a background thread and returns at once, for work that will decode
// images after a slow start of its own (loading a model): the load then overlaps that start instead
// of delaying the first image. A failure is left for the first decode to report. At exit the
// thread is joined. Calls after the first do nothing.
void PreloadOpenCvCodecs();

}  // namespace segtune
