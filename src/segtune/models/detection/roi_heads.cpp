#include "segtune/models/detection/roi_heads.h"

#include <torch/nn/functional/loss.h>

#include "segtune/core/error.h"
#include "segtune/models/detection/nms.h"

namespace segtune::detection {

RoIHeadsImpl::RoIHeadsImpl(MultiScaleRoIAlign box_roi_pool, TwoMLPHead head, FastRCNNPredictor predictor,
                           RoIHeadsOptions options, std::optional<MaskBranch> mask)
    : box_roi_pool_(std::move(box_roi_pool)),
      options_(options),
      box_coder_(options.bbox_reg_weights),
      proposal_matcher_(options.fg_iou_thresh, options.bg_iou_thresh, /*allow_low_quality_matches=*/false),
      fg_bg_sampler_(options.batch_size_per_image, options.positive_fraction) {
  box_head = register_module("box_head", std::move(head));
  box_predictor = register_module("box_predictor", std::move(predictor));
  if (mask) {
    mask_roi_pool_ = mask->roi_pool;
    mask_head = register_module("mask_head", mask->head);
    mask_predictor = register_module("mask_predictor", mask->predictor);
  }
}

RoIHeadsImpl::Samples RoIHeadsImpl::SelectTrainingSamples(std::vector<torch::Tensor> proposals,
                                                          const std::vector<DetectionTarget>& targets) const {
  Samples s;
  std::vector<torch::Tensor> matched_gt_boxes;
  for (size_t i = 0; i < proposals.size(); ++i) {
    const torch::Tensor gt_boxes = targets[i].boxes.to(proposals[i].dtype());
    const torch::Tensor all = torch::cat({proposals[i], gt_boxes});  // add_gt_proposals
    torch::Tensor matched, labels;
    if (gt_boxes.numel() == 0) {
      matched = torch::zeros({all.size(0)}, torch::kInt64);
      labels = torch::zeros({all.size(0)}, torch::kInt64);
    } else {
      const torch::Tensor raw = proposal_matcher_(BoxIou(gt_boxes, all));
      matched = raw.clamp_min(0);
      labels = targets[i].labels.index({matched}).to(torch::kInt64);
      labels.index_put_({raw == Matcher::kBelowLowThreshold}, 0);
      labels.index_put_({raw == Matcher::kBetweenThresholds}, -1);
    }
    s.proposals.push_back(all);
    s.matched_idxs.push_back(matched);
    s.labels.push_back(labels);
  }
  const auto [positive, negative] = fg_bg_sampler_(s.labels);
  for (size_t i = 0; i < proposals.size(); ++i) {
    const torch::Tensor sampled = torch::where(positive[i].to(torch::kBool) | negative[i].to(torch::kBool))[0];
    s.proposals[i] = s.proposals[i].index({sampled});
    s.labels[i] = s.labels[i].index({sampled});
    s.matched_idxs[i] = s.matched_idxs[i].index({sampled});
    torch::Tensor gt_boxes = targets[i].boxes.to(proposals[i].dtype());
    if (gt_boxes.numel() == 0) gt_boxes = torch::zeros({1, 4}, proposals[i].options());
    matched_gt_boxes.push_back(gt_boxes.index({s.matched_idxs[i]}));
  }
  s.regression_targets = box_coder_.Encode(matched_gt_boxes, s.proposals);
  return s;
}

std::pair<torch::Tensor, torch::Tensor> FastRCNNLoss(const torch::Tensor& class_logits, const torch::Tensor& box_regression,
                                                     const std::vector<torch::Tensor>& labels,
                                                     const std::vector<torch::Tensor>& regression_targets) {
  const torch::Tensor all_labels = torch::cat(labels);
  const torch::Tensor targets = torch::cat(regression_targets);
  const torch::Tensor classification_loss = torch::nn::functional::cross_entropy(class_logits, all_labels);
  const torch::Tensor positive = torch::where(all_labels > 0)[0];
  const torch::Tensor labels_pos = all_labels.index({positive});
  const int64_t n = class_logits.size(0);
  const torch::Tensor deltas = box_regression.reshape({n, box_regression.size(-1) / 4, 4});
  // torch::smooth_l1_loss directly: libtorch 1.13's F::smooth_l1_loss ignores SmoothL1LossFuncOptions::beta.
  const torch::Tensor box_loss = torch::smooth_l1_loss(deltas.index({positive, labels_pos}), targets.index({positive}),
                                                       at::Reduction::Sum, /*beta=*/1.0 / 9) /
                                 all_labels.numel();
  return {classification_loss, box_loss};
}

std::vector<Detections> RoIHeadsImpl::PostprocessDetections(const torch::Tensor& class_logits,
                                                            const torch::Tensor& box_regression,
                                                            const std::vector<torch::Tensor>& proposals,
                                                            const std::vector<ImageSize>& image_sizes) const {
  const int64_t num_classes = class_logits.size(-1);
  std::vector<int64_t> counts;
  for (const auto& p : proposals) counts.push_back(p.size(0));
  const auto pred_boxes = box_coder_.Decode(box_regression, proposals).split_with_sizes(counts, 0);
  const auto pred_scores = torch::softmax(class_logits, -1).split_with_sizes(counts, 0);
  std::vector<Detections> result;
  for (size_t i = 0; i < proposals.size(); ++i) {
    torch::Tensor boxes = ClipBoxesToImage(pred_boxes[i], image_sizes[i]);
    torch::Tensor scores = pred_scores[i];
    torch::Tensor labels = torch::arange(num_classes, torch::kInt64).view({1, -1}).expand_as(scores);
    // Class 0 is the background; every other class is a candidate of its own.
    boxes = boxes.slice(1, 1).reshape({-1, 4});
    scores = scores.slice(1, 1).reshape(-1);
    labels = labels.slice(1, 1).reshape(-1);
    torch::Tensor keep = torch::where(scores > options_.score_thresh)[0];
    boxes = boxes.index({keep}), scores = scores.index({keep}), labels = labels.index({keep});
    keep = RemoveSmallBoxes(boxes, 1e-2);
    boxes = boxes.index({keep}), scores = scores.index({keep}), labels = labels.index({keep});
    keep = BatchedNms(boxes, scores, labels, options_.nms_thresh).slice(0, 0, options_.detections_per_img);
    result.push_back(Detections{boxes.index({keep}), scores.index({keep}), labels.index({keep}), {}});
  }
  return result;
}

RoIHeadsOutput RoIHeadsImpl::forward(const FeatureMaps& features, const std::vector<torch::Tensor>& proposals,
                                     const std::vector<ImageSize>& image_sizes,
                                     const std::vector<DetectionTarget>* targets) {
  RoIHeadsOutput out;
  Samples samples;
  if (is_training()) {
    if (targets == nullptr || targets->size() != proposals.size()) {
      throw UsageError("RoIHeads: training needs one target per image");
    }
    samples = SelectTrainingSamples(proposals, *targets);
  } else {
    samples.proposals = proposals;
  }
  const torch::Tensor box_features = box_head->forward(box_roi_pool_.forward(features, samples.proposals, image_sizes));
  const auto [class_logits, box_regression] = box_predictor->forward(box_features);
  if (is_training()) {
    const auto [loss_classifier, loss_box_reg] =
        FastRCNNLoss(class_logits, box_regression, samples.labels, samples.regression_targets);
    out.losses["loss_classifier"] = loss_classifier;
    out.losses["loss_box_reg"] = loss_box_reg;
  } else {
    out.detections = PostprocessDetections(class_logits, box_regression, samples.proposals, image_sizes);
  }
  if (!has_mask()) return out;

  std::vector<torch::Tensor> mask_proposals, positive_matched;
  if (is_training()) {
    for (size_t i = 0; i < samples.proposals.size(); ++i) {
      const torch::Tensor positive = torch::where(samples.labels[i] > 0)[0];
      mask_proposals.push_back(samples.proposals[i].index({positive}));
      positive_matched.push_back(samples.matched_idxs[i].index({positive}));
    }
  } else {
    for (const auto& d : out.detections) mask_proposals.push_back(d.boxes);
  }
  const torch::Tensor mask_logits =
      mask_predictor->forward(mask_head->forward(mask_roi_pool_->forward(features, mask_proposals, image_sizes)));
  if (is_training()) {
    std::vector<torch::Tensor> gt_masks, gt_labels;
    for (const auto& t : *targets) {
      if (!t.masks.defined()) throw UsageError("RoIHeads: Mask R-CNN training needs masks in every target");
      gt_masks.push_back(t.masks);
      gt_labels.push_back(t.labels);
    }
    out.losses["loss_mask"] = MaskRCNNLoss(mask_logits, mask_proposals, gt_masks, gt_labels, positive_matched);
  } else {
    std::vector<torch::Tensor> labels;
    for (const auto& d : out.detections) labels.push_back(d.labels);
    const auto probs = MaskRCNNInference(mask_logits, labels);
    for (size_t i = 0; i < probs.size(); ++i) out.detections[i].masks = probs[i];
  }
  return out;
}

}  // namespace segtune::detection
