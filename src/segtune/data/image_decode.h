// The one way segtune decodes image bytes it did not make itself (record images and masks, image
// files, downloads, Labelbox masks): header checked first (image_header.h), OpenCV's errors turned
// into errors naming the file and the record.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace segtune {

// Decodes `bytes` with cv::imdecode(flags) (cv::IMREAD_COLOR, IMREAD_GRAYSCALE, IMREAD_UNCHANGED,
// ...) after CheckImageHeader. Returns a non-empty Mat. Throws FormatError "<source>: <key>: ..."
// for everything CheckImageHeader rejects and for bytes OpenCV cannot decode (truncated or corrupt
// data), never a cv::Exception. `source` names the file and record ("train.record: record 12"),
// `key` the field ("image/encoded", "image/object/mask[3]"); key may be empty for an image file.
cv::Mat DecodeImageBytes(std::string_view bytes, int flags, const std::string& source, const std::string& key);

// Reads an image file and decodes it as DecodeImageBytes (source = the path). Throws IoError if the
// file cannot be read.
cv::Mat DecodeImageFile(const std::filesystem::path& path, int flags);

// Decodes a PNG (or any image DecodeImageBytes accepts) to a row-major 8-bit single-channel buffer
// (no color conversion of gray images; color images are converted to gray). Throws FormatError
// "<source>: <key>: ..." if the header is rejected (image_header.h: format, size limit) or the
// bytes do not decode.
void DecodeGray(std::string_view bytes, const std::string& source, const std::string& key, std::vector<uint8_t>* pixels,
                int* height, int* width);

}  // namespace segtune
