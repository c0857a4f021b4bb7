// The size of an image file from its header, reading only the start of the file: readers of
// folder formats (YOLO, mask folders) need the sizes of thousands of images without decoding them.
#pragma once

#include <filesystem>
#include <optional>

#include "segtune/formats/image_codec.h"

namespace segtune {

// Width and height from the header (formats/image_codec.h ReadImageSize: JPEG, PNG, GIF, BMP,
// WebP). Reads the first 16 KB, and the whole file only when the header lies beyond (a JPEG with a
// large EXIF block or thumbnail). nullopt if the file is unreadable or not one of those formats.
std::optional<ImageSize> ReadImageFileSize(const std::filesystem::path& path);

// The stored size and, for a JPEG, its EXIF orientation (formats/exif_orientation.h; 1 for other
// formats), from the same read.
struct ImageFileHeader {
  ImageSize size;
  int orientation = 1;
};
std::optional<ImageFileHeader> ReadImageFileHeader(const std::filesystem::path& path);

}  // namespace segtune
