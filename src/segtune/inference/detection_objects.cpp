#include "segtune/inference/detection_objects.h"

#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/rle.h"

namespace segtune {

void AddDetectionKeys(tensorflow::Example* example, const std::vector<DetectedObject>& objects, int height,
                      int width, bool with_masks) {
  std::vector<float> ymin, xmin, ymax, xmax, score;
  std::vector<int64_t> label;
  std::vector<std::string> masks;
  const float h = static_cast<float>(height), w = static_cast<float>(width);
  for (const DetectedObject& o : objects) {
    ymin.push_back(o.y1 / h);
    xmin.push_back(o.x1 / w);
    ymax.push_back(o.y2 / h);
    xmax.push_back(o.x2 / w);
    score.push_back(o.score);
    label.push_back(o.label);
    if (with_masks) masks.push_back(EncodeGrayPng(o.mask.data, o.mask.rows, o.mask.cols));
  }
  SetFloatList(example, "image/detection/bbox/ymin", ymin);
  SetFloatList(example, "image/detection/bbox/xmin", xmin);
  SetFloatList(example, "image/detection/bbox/ymax", ymax);
  SetFloatList(example, "image/detection/bbox/xmax", xmax);
  SetFloatList(example, "image/detection/score", score);
  SetInt64List(example, "image/detection/label", label);
  if (with_masks) SetBytesList(example, kDetectionMaskKey, masks);
}

nlohmann::json CocoDetectionResults(const std::vector<DetectedObject>& objects) {
  nlohmann::json results = nlohmann::json::array();
  for (const DetectedObject& o : objects) {
    nlohmann::json r;
    r["category_id"] = o.label;
    r["bbox"] = {o.x1, o.y1, o.x2 - o.x1, o.y2 - o.y1};
    r["score"] = o.score;
    if (!o.mask.empty()) {
      const Rle rle = RleEncode(o.mask.data, static_cast<uint32_t>(o.mask.rows), static_cast<uint32_t>(o.mask.cols));
      r["segmentation"] = {{"size", {o.mask.rows, o.mask.cols}}, {"counts", RleToString(rle)}};
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace segtune
