// torchvision.models.detection.roi_heads.RoIHeads (0.14) for boxes and masks: proposal matching and
// sampling in training, the Fast R-CNN and mask losses, and eval-mode post-processing.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "segtune/config/detection_options.h"  // RoIHeadsOptions.
#include "segtune/models/detection/box_head.h"
#include "segtune/models/detection/box_ops.h"
#include "segtune/models/detection/mask_head.h"
#include "segtune/models/detection/poolers.h"
#include "segtune/models/detection/types.h"

namespace segtune::detection {

// The mask branch, present for Mask R-CNN.
struct MaskBranch {
  MultiScaleRoIAlign roi_pool;
  MaskRCNNHeads head;
  MaskRCNNPredictor predictor;
};

struct RoIHeadsOutput {
  std::vector<Detections> detections;           // Eval mode: per image, boxes in the resized image.
  std::map<std::string, torch::Tensor> losses;  // Training: loss_classifier, loss_box_reg (+ loss_mask).
};

// Children "box_head", "box_predictor" (+ "mask_head", "mask_predictor"), as roi_heads.* keys.
class RoIHeadsImpl : public torch::nn::Module {
 public:
  RoIHeadsImpl(MultiScaleRoIAlign box_roi_pool, TwoMLPHead box_head, FastRCNNPredictor box_predictor,
               RoIHeadsOptions options, std::optional<MaskBranch> mask = std::nullopt);

  // proposals per image [P_i,4]; image_sizes after resizing. In training mode targets (one per
  // image: boxes float, labels int64, masks for Mask R-CNN) are required: the gt boxes are added
  // to the proposals, matched and sampled (torch's global generator) and the losses returned.
  // In eval mode: softmax scores per class > score_thresh, boxes decoded and clipped, boxes
  // smaller than 1e-2 removed, per-class NMS, the best detections_per_img kept; masks are the
  // predicted label's sigmoid [N,1,28,28]. Throws UsageError when training without targets.
  RoIHeadsOutput forward(const FeatureMaps& features, const std::vector<torch::Tensor>& proposals,
                         const std::vector<ImageSize>& image_sizes, const std::vector<DetectionTarget>* targets = nullptr);

  bool has_mask() const { return !mask_head.is_empty(); }
  const RoIHeadsOptions& options() const { return options_; }

  TwoMLPHead box_head{nullptr};
  FastRCNNPredictor box_predictor{nullptr};
  MaskRCNNHeads mask_head{nullptr};
  MaskRCNNPredictor mask_predictor{nullptr};

 private:
  struct Samples {
    std::vector<torch::Tensor> proposals, matched_idxs, labels, regression_targets;
  };
  Samples SelectTrainingSamples(std::vector<torch::Tensor> proposals, const std::vector<DetectionTarget>& targets) const;
  std::vector<Detections> PostprocessDetections(const torch::Tensor& class_logits, const torch::Tensor& box_regression,
                                                const std::vector<torch::Tensor>& proposals,
                                                const std::vector<ImageSize>& image_sizes) const;

  MultiScaleRoIAlign box_roi_pool_;
  std::optional<MultiScaleRoIAlign> mask_roi_pool_;
  RoIHeadsOptions options_;
  BoxCoder box_coder_;
  Matcher proposal_matcher_;
  BalancedPositiveNegativeSampler fg_bg_sampler_;
};
TORCH_MODULE(RoIHeads);

// torchvision's fastrcnn_loss: {cross-entropy over all sampled proposals, smooth-L1 (beta 1/9)
// of the positives' boxes of their gt class summed and divided by the sampled count}.
std::pair<torch::Tensor, torch::Tensor> FastRCNNLoss(const torch::Tensor& class_logits, const torch::Tensor& box_regression,
                                                     const std::vector<torch::Tensor>& labels,
                                                     const std::vector<torch::Tensor>& regression_targets);

}  // namespace segtune::detection
