#include "segtune/config/detection_options.h"

#include "segtune/config/model_catalog.h"

namespace segtune::detection {

DetectionModelOptions DefaultDetectionOptions(const std::string& model) {
  const DetectionModelInfo& info = GetDetectionModelInfo(model);
  DetectionModelOptions options;
  options.num_classes = info.default_num_classes;
  if (info.backbone == "mobilenet_v3_large") options.rpn.score_thresh = 0.05;
  if (model == "fasterrcnn_mobilenet_v3_large_320_fpn") {
    options.min_size = 320;
    options.max_size = 640;
    options.rpn.pre_nms_top_n_test = 150;
    options.rpn.post_nms_top_n_test = 150;
  }
  return options;
}

}  // namespace segtune::detection
