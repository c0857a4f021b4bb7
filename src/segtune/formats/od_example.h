// One image of a TF Object Detection API dataset: the tf.train.Example keys written by
// create_coco_tf_record.py (+ DeepLab's semantic mask and infer_detections' detection keys) as a
// struct. See docs/records.md for every key and its convention.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "example.pb.h"

namespace segtune {

// A box in normalized coordinates (fractions of the image height/width), TF's [ymin, xmin, ymax, xmax].
struct NormalizedBox {
  float ymin = 0, xmin = 0, ymax = 0, xmax = 0;
  bool operator==(const NormalizedBox& o) const {
    return ymin == o.ymin && xmin == o.xmin && ymax == o.ymax && xmax == o.xmax;
  }
};

struct ObjectDetectionExample {
  std::string encoded;    // image/encoded: the image file bytes.
  std::string format;     // image/format: "jpeg" or "png".
  std::string filename;   // image/filename
  std::string source_id;  // image/source_id: str(COCO image id).
  std::string sha256;     // image/key/sha256: lowercase hex of sha256(encoded).
  int64_t height = 0;     // image/height
  int64_t width = 0;      // image/width

  // One entry per object (all non-empty vectors have the same length).
  std::vector<NormalizedBox> boxes;      // image/object/bbox/{ymin,xmin,ymax,xmax}
  std::vector<std::string> class_text;   // image/object/class/text
  std::vector<int64_t> class_label;      // image/object/class/label (COCO category id)
  std::vector<int64_t> is_crowd;         // image/object/is_crowd (0/1)
  std::vector<float> area;               // image/object/area (pixels, from COCO)
  bool has_instance_masks = false;       // Whether image/object/mask is (to be) present at all.
  std::vector<std::string> instance_masks;  // image/object/mask: 8-bit gray PNGs, pixels 0/1.

  // image/segmentation/class/{encoded,format}: 8-bit gray PNG, value = category id, 0 background,
  // 255 ignore. Empty when absent.
  std::string semantic_mask;
  std::string semantic_mask_format;

  // image/detection/* (infer_detections): present when has_detections.
  bool has_detections = false;
  std::vector<NormalizedBox> detection_boxes;
  std::vector<float> detection_scores;
  std::vector<int64_t> detection_labels;

  size_t num_objects() const { return boxes.size(); }
};

// Reads the keys above. `source` names the record in errors ("train.record: record 7"). Throws
// FormatError when a key has the wrong type or the per-object lists disagree in length. Missing keys
// are left empty/zero (as TF's decoder treats them as optional).
ObjectDetectionExample ParseObjectDetectionExample(const tensorflow::Example& example, const std::string& source);

// Writes the keys above (object lists always, masks only when has_instance_masks, semantic and
// detection keys only when present).
tensorflow::Example ToExample(const ObjectDetectionExample& od);

}  // namespace segtune
