// The EXIF orientation of a JPEG: how its stored pixels are turned for display. Phone cameras store
// the sensor's pixels and record the turn here (6: turned 90 degrees clockwise for display).
//
// segtune, like TensorFlow's decoders, works in the stored pixels' frame. Tools that decode with
// OpenCV's imread or show images in a browser (Ultralytics YOLO, most labeling tools) apply the turn,
// so their coordinates are in the displayed frame; data/convert/display_frame.h maps between them.
#pragma once

#include <string_view>

namespace segtune {

// The orientation tag (0x0112) of IFD0 in the JPEG's first APP1 "Exif" segment: 1..8 as the EXIF
// specification numbers them. 1 (as stored) when `jpeg_head` is not a JPEG, has no EXIF block before
// its frame header, or the block is cut short, malformed or holds another value. Reads only within
// `jpeg_head` (the start of the file is enough: APP1 comes before the frame header).
int JpegExifOrientation(std::string_view jpeg_head);

}  // namespace segtune
