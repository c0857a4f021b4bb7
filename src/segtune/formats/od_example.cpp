#include "segtune/formats/od_example.h"

#include "segtune/core/error.h"
#include "segtune/formats/example.h"

namespace segtune {
namespace {

std::vector<NormalizedBox> ReadBoxes(const tensorflow::Example& ex, const std::string& prefix,
                                     const std::string& source) {
  const auto ymin = GetFloatList(ex, prefix + "ymin", source);
  const auto xmin = GetFloatList(ex, prefix + "xmin", source);
  const auto ymax = GetFloatList(ex, prefix + "ymax", source);
  const auto xmax = GetFloatList(ex, prefix + "xmax", source);
  if (xmin.size() != ymin.size() || ymax.size() != ymin.size() || xmax.size() != ymin.size()) {
    throw FormatError(source + ": " + prefix + "{ymin,xmin,ymax,xmax}: lists differ in length (" +
                      std::to_string(ymin.size()) + ", " + std::to_string(xmin.size()) + ", " +
                      std::to_string(ymax.size()) + ", " + std::to_string(xmax.size()) + ")");
  }
  std::vector<NormalizedBox> boxes(ymin.size());
  for (size_t i = 0; i < boxes.size(); ++i) boxes[i] = {ymin[i], xmin[i], ymax[i], xmax[i]};
  return boxes;
}

void WriteBoxes(tensorflow::Example* ex, const std::string& prefix, const std::vector<NormalizedBox>& boxes) {
  std::vector<float> ymin, xmin, ymax, xmax;
  for (const auto& b : boxes) {
    ymin.push_back(b.ymin);
    xmin.push_back(b.xmin);
    ymax.push_back(b.ymax);
    xmax.push_back(b.xmax);
  }
  SetFloatList(ex, prefix + "xmin", xmin);
  SetFloatList(ex, prefix + "xmax", xmax);
  SetFloatList(ex, prefix + "ymin", ymin);
  SetFloatList(ex, prefix + "ymax", ymax);
}

// A per-object list must be empty or have one entry per box.
template <typename List>
void CheckObjectCount(const List& list, size_t objects, const std::string& key, const std::string& source) {
  if (!list.empty() && list.size() != objects) {
    throw FormatError(source + ": " + key + ": " + std::to_string(list.size()) + " values for " +
                      std::to_string(objects) + " boxes");
  }
}

}  // namespace

ObjectDetectionExample ParseObjectDetectionExample(const tensorflow::Example& ex, const std::string& source) {
  ObjectDetectionExample od;
  od.encoded = GetBytes(ex, "image/encoded", source).value_or("");
  od.format = GetBytes(ex, "image/format", source).value_or("");
  od.filename = GetBytes(ex, "image/filename", source).value_or("");
  od.source_id = GetBytes(ex, "image/source_id", source).value_or("");
  od.sha256 = GetBytes(ex, "image/key/sha256", source).value_or("");
  od.height = GetInt64(ex, "image/height", source).value_or(0);
  od.width = GetInt64(ex, "image/width", source).value_or(0);

  od.boxes = ReadBoxes(ex, "image/object/bbox/", source);
  od.class_text = GetBytesList(ex, "image/object/class/text", source);
  od.class_label = GetInt64List(ex, "image/object/class/label", source);
  od.is_crowd = GetInt64List(ex, "image/object/is_crowd", source);
  od.area = GetFloatList(ex, "image/object/area", source);
  od.has_instance_masks = HasFeature(ex, "image/object/mask");
  od.instance_masks = GetBytesList(ex, "image/object/mask", source);
  const size_t n = od.boxes.size();
  CheckObjectCount(od.class_text, n, "image/object/class/text", source);
  CheckObjectCount(od.class_label, n, "image/object/class/label", source);
  CheckObjectCount(od.is_crowd, n, "image/object/is_crowd", source);
  CheckObjectCount(od.area, n, "image/object/area", source);
  CheckObjectCount(od.instance_masks, n, "image/object/mask", source);

  od.semantic_mask = GetBytes(ex, "image/segmentation/class/encoded", source).value_or("");
  od.semantic_mask_format = GetBytes(ex, "image/segmentation/class/format", source).value_or("");

  od.has_detections = HasFeature(ex, "image/detection/score");
  if (od.has_detections) {
    od.detection_boxes = ReadBoxes(ex, "image/detection/bbox/", source);
    od.detection_scores = GetFloatList(ex, "image/detection/score", source);
    od.detection_labels = GetInt64List(ex, "image/detection/label", source);
    if (od.detection_scores.size() != od.detection_boxes.size()) {
      throw FormatError(source + ": image/detection/score: " + std::to_string(od.detection_scores.size()) +
                        " values for " + std::to_string(od.detection_boxes.size()) + " boxes");
    }
    CheckObjectCount(od.detection_labels, od.detection_boxes.size(), "image/detection/label", source);
  }
  return od;
}

tensorflow::Example ToExample(const ObjectDetectionExample& od) {
  tensorflow::Example ex;
  SetInt64(&ex, "image/height", od.height);
  SetInt64(&ex, "image/width", od.width);
  SetBytes(&ex, "image/filename", od.filename);
  SetBytes(&ex, "image/source_id", od.source_id);
  SetBytes(&ex, "image/key/sha256", od.sha256);
  SetBytes(&ex, "image/encoded", od.encoded);
  SetBytes(&ex, "image/format", od.format);
  WriteBoxes(&ex, "image/object/bbox/", od.boxes);
  SetBytesList(&ex, "image/object/class/text", od.class_text);
  SetInt64List(&ex, "image/object/class/label", od.class_label);
  SetInt64List(&ex, "image/object/is_crowd", od.is_crowd);
  SetFloatList(&ex, "image/object/area", od.area);
  if (od.has_instance_masks) SetBytesList(&ex, "image/object/mask", od.instance_masks);
  if (!od.semantic_mask.empty()) {
    SetBytes(&ex, "image/segmentation/class/encoded", od.semantic_mask);
    SetBytes(&ex, "image/segmentation/class/format", od.semantic_mask_format.empty() ? "png" : od.semantic_mask_format);
  }
  if (od.has_detections) {
    WriteBoxes(&ex, "image/detection/bbox/", od.detection_boxes);
    SetFloatList(&ex, "image/detection/score", od.detection_scores);
    SetInt64List(&ex, "image/detection/label", od.detection_labels);
  }
  return ex;
}

}  // namespace segtune
