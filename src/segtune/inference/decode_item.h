// The decode stage shared by semantic and detection inference: one input item (a TFRecord Example or
// an image file) parsed and decoded to BGR pixels, with the name its output files get.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "example.pb.h"
#include "segtune/inference/infer_inputs.h"

namespace segtune {

struct DecodedItem {
  // The record's Example; for an image file, a new one with the create_coco_tf_record keys
  // image/encoded, image/format, image/filename, image/source_id (the file name), image/height, image/width.
  tensorflow::Example example;
  cv::Mat bgr;          // 8-bit, 3 channels.
  std::string name;     // image/filename's stem, else image/source_id, else "image-<index>"; made safe by SanitizeFileName.
  std::string problem;  // Non-empty: the item is skipped (the message names its source).
};

// Parses item->record (and releases its bytes) or reads item->image_path, and decodes the image.
// Never throws: a record without image/encoded, an image that does not decode, an unreadable file or
// a malformed record end up in `problem`.
DecodedItem DecodeItem(InferenceItem* item);

}  // namespace segtune
