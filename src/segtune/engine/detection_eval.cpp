#include "segtune/engine/detection_eval.h"

#include <torch/torch.h>

#include "segtune/formats/rle.h"

namespace segtune {

namespace {

// [x, y, w, h] of an xyxy box.
std::array<double, 4> Xywh(const float* b) { return {b[0], b[1], b[2] - b[0], b[3] - b[1]}; }

Rle MaskRle(const cv::Mat& mask) {
  const cv::Mat m = mask.isContinuous() ? mask : mask.clone();
  return RleEncode(m.ptr<uint8_t>(), static_cast<uint32_t>(m.rows), static_cast<uint32_t>(m.cols));
}

}  // namespace

DetectionEvalAccumulator::DetectionEvalAccumulator(int num_classes, const std::vector<std::string>& class_names,
                                                   bool masks)
    : with_masks_(masks) {
  for (int id = 1; id < num_classes; ++id) {
    CocoCategory c;
    c.id = id;
    c.name = id < static_cast<int>(class_names.size()) && !class_names[id].empty() ? class_names[id]
                                                                                   : "class_" + std::to_string(id);
    gt_.categories.push_back(std::move(c));
  }
}

void DetectionEvalAccumulator::Add(const DetectionSample& sample, const detection::Detections& det) {
  CocoImage image;
  image.id = ImageId{std::to_string(gt_.images.size() + 1), true};
  image.width = sample.rgb.cols;
  image.height = sample.rgb.rows;
  image.file_name = sample.source;
  const ImageId id = image.id;
  gt_.images.push_back(std::move(image));

  for (size_t k = 0; k < sample.labels.size(); ++k) {
    CocoAnnotation a;
    a.id = static_cast<int64_t>(gt_.annotations.size() + 1);
    a.image_id = id;
    a.category_id = sample.labels[k];
    a.bbox = Xywh(&sample.boxes[4 * k]);
    a.iscrowd = sample.is_crowd[k] != 0;
    if (with_masks_) a.segmentation.rle = MaskRle(sample.masks[k]);
    // The record's area when it has one (COCO's), else the mask's or the box's (as convert_to_coco_api).
    a.area = sample.area[k] > 0 ? sample.area[k]
             : with_masks_      ? static_cast<double>(RleArea(*a.segmentation.rle))
                                : a.bbox[2] * a.bbox[3];
    gt_.annotations.push_back(std::move(a));
  }

  const torch::Tensor boxes = det.boxes.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor scores = det.scores.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor labels = det.labels.to(torch::kCPU, torch::kInt64).contiguous();
  torch::Tensor binary;
  if (with_masks_ && det.masks.defined()) binary = (det.masks.squeeze(1) > 0.5).to(torch::kCPU, torch::kUInt8).contiguous();
  for (int64_t k = 0; k < boxes.size(0); ++k) {
    CocoAnnotation d;
    d.image_id = id;
    d.category_id = labels[k].item<int64_t>();
    d.score = scores[k].item<float>();
    d.bbox = Xywh(boxes.data_ptr<float>() + 4 * k);
    boxes_.push_back(d);
    if (binary.defined()) {
      // Mask results carry no box (COCO.loadRes takes area and box from the mask), as torchvision's.
      CocoAnnotation m;
      m.image_id = id;
      m.category_id = d.category_id;
      m.score = d.score;
      m.segmentation.rle = RleEncode(binary[k].data_ptr<uint8_t>(), static_cast<uint32_t>(binary.size(1)),
                                     static_cast<uint32_t>(binary.size(2)));
      masks_.push_back(std::move(m));
    }
  }
}

DetectionApResult DetectionEvalAccumulator::Evaluate(int threads) const {
  CocoEvalParams params;
  params.threads = threads;
  params.results_kind = CocoResultsKind::kBoxes;
  DetectionApResult result;
  result.box = EvaluateCoco(gt_, boxes_, params);
  if (with_masks_) {
    params.iou_type = CocoIouType::kSegm;
    params.results_kind = CocoResultsKind::kMasks;
    result.mask = EvaluateCoco(gt_, masks_, params);
  }
  return result;
}

}  // namespace segtune
