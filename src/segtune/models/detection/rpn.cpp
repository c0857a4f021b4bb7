#include "segtune/models/detection/rpn.h"

#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/models/detection/nms.h"
#include "segtune/models/layers.h"

namespace segtune::detection {

namespace F = torch::nn::functional;

namespace {

// Minimum box side kept after clipping (torchvision's RegionProposalNetwork.min_size).
constexpr double kMinProposalSize = 1e-3;

// [N, A*C, H, W] -> [N, H*W*A, C] (torchvision's permute_and_flatten).
torch::Tensor PermuteAndFlatten(const torch::Tensor& layer, int64_t n, int64_t c, int64_t h, int64_t w) {
  return layer.view({n, -1, c, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, c});
}

// Objectness [sum anchors over images, 1] and deltas [sum anchors, 4], image-major.
std::pair<torch::Tensor, torch::Tensor> ConcatBoxPredictionLayers(const std::vector<torch::Tensor>& box_cls,
                                                                  const std::vector<torch::Tensor>& box_regression) {
  std::vector<torch::Tensor> cls_flat, reg_flat;
  for (size_t l = 0; l < box_cls.size(); ++l) {
    const int64_t n = box_cls[l].size(0), axc = box_cls[l].size(1), h = box_cls[l].size(2), w = box_cls[l].size(3);
    const int64_t a = box_regression[l].size(1) / 4;
    cls_flat.push_back(PermuteAndFlatten(box_cls[l], n, axc / a, h, w));
    reg_flat.push_back(PermuteAndFlatten(box_regression[l], n, 4, h, w));
  }
  return {torch::cat(cls_flat, 1).flatten(0, -2), torch::cat(reg_flat, 1).reshape({-1, 4})};
}

}  // namespace

RPNHeadImpl::RPNHeadImpl(int64_t in_channels, int64_t num_anchors, int64_t conv_depth) {
  auto init = [](torch::nn::Conv2d& c) {  // torchvision: normal(std=0.01), bias 0.
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(c->weight, 0.0, 0.01);
    torch::nn::init::constant_(c->bias, 0.0);
  };
  conv = register_module("conv", torch::nn::ModuleList());
  for (int64_t i = 0; i < conv_depth; ++i) {
    // torchvision's Conv2dNormActivation without norm: Sequential(conv, ReLU) -> conv.<i>.0.*
    torch::nn::Conv2d c(torch::nn::Conv2dOptions(in_channels, in_channels, 3).padding(1).bias(true));
    init(c);
    conv->push_back(torch::nn::Sequential(c, torch::nn::ReLU(torch::nn::ReLUOptions(true))));
  }
  cls_logits = register_module("cls_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, num_anchors, 1)));
  bbox_pred =
      register_module("bbox_pred", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, num_anchors * 4, 1)));
  init(cls_logits);
  init(bbox_pred);
  conv_kernels.resize(size_t(conv_depth));
}

std::vector<ConvSlot> RPNHeadImpl::ConvSlots() {
  std::vector<ConvSlot> slots;
  for (size_t i = 0; i < conv->size(); ++i) {
    auto* c = conv->ptr<torch::nn::SequentialImpl>(i)->ptr<torch::nn::Conv2dImpl>(0).get();
    slots.push_back({"conv." + std::to_string(i) + ".0", c, nullptr, Activation::kReLU, false, &conv_kernels[i]});
  }
  slots.push_back({"cls_logits", cls_logits.get(), nullptr, Activation::kNone, false, &cls_kernel});
  slots.push_back({"bbox_pred", bbox_pred.get(), nullptr, Activation::kNone, false, &bbox_kernel});
  return slots;
}

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> RPNHeadImpl::forward(
    const std::vector<torch::Tensor>& features) {
  std::vector<torch::Tensor> logits, bbox_reg;
  for (const auto& feature : features) {
    torch::Tensor t = feature;
    for (size_t i = 0; i < conv->size(); ++i) {
      const torch::Tensor y = RunConvKernel(conv_kernels[i], t);
      t = y.defined() ? y : conv->ptr<torch::nn::SequentialImpl>(i)->forward(t);
    }
    torch::Tensor l = RunConvKernel(cls_kernel, t), b = RunConvKernel(bbox_kernel, t);
    logits.push_back(l.defined() ? l : cls_logits->forward(t));
    bbox_reg.push_back(b.defined() ? b : bbox_pred->forward(t));
  }
  return {logits, bbox_reg};
}

RegionProposalNetworkImpl::RegionProposalNetworkImpl(AnchorGenerator anchor_generator, RPNHead rpn_head,
                                                     RpnOptions options)
    : anchor_generator_(std::move(anchor_generator)),
      options_(options),
      proposal_matcher_(options.fg_iou_thresh, options.bg_iou_thresh, /*allow_low_quality_matches=*/true),
      fg_bg_sampler_(options.batch_size_per_image, options.positive_fraction) {
  head = register_module("head", std::move(rpn_head));
}

int64_t RegionProposalNetworkImpl::PreNmsTopN() const {
  return is_training() ? options_.pre_nms_top_n_train : options_.pre_nms_top_n_test;
}

int64_t RegionProposalNetworkImpl::PostNmsTopN() const {
  return is_training() ? options_.post_nms_top_n_train : options_.post_nms_top_n_test;
}

std::vector<torch::Tensor> RegionProposalNetworkImpl::FilterProposals(const torch::Tensor& proposals,
                                                                      torch::Tensor objectness,
                                                                      const std::vector<ImageSize>& image_sizes,
                                                                      const std::vector<int64_t>& anchors_per_level) const {
  const int64_t num_images = proposals.size(0);
  objectness = objectness.detach().reshape({num_images, -1});
  std::vector<torch::Tensor> level_ids, top_n_idx;
  int64_t offset = 0;
  for (size_t l = 0; l < anchors_per_level.size(); ++l) {
    level_ids.push_back(torch::full({anchors_per_level[l]}, static_cast<int64_t>(l), torch::kLong));
    const torch::Tensor ob = objectness.narrow(1, offset, anchors_per_level[l]);
    const int64_t k = std::min(anchors_per_level[l], PreNmsTopN());
    top_n_idx.push_back(std::get<1>(ob.topk(k, 1)) + offset);
    offset += anchors_per_level[l];
  }
  const torch::Tensor top = torch::cat(top_n_idx, 1);
  const torch::Tensor batch_idx = torch::arange(num_images, torch::kLong).unsqueeze(1);
  const torch::Tensor levels = torch::cat(level_ids, 0).reshape({1, -1}).expand_as(objectness).index({batch_idx, top});
  const torch::Tensor scores_all = torch::sigmoid(objectness.index({batch_idx, top}));
  const torch::Tensor boxes_all = proposals.index({batch_idx, top});

  std::vector<torch::Tensor> final_boxes;
  for (int64_t i = 0; i < num_images; ++i) {
    torch::Tensor boxes = ClipBoxesToImage(boxes_all[i], image_sizes[i]);
    torch::Tensor scores = scores_all[i];
    torch::Tensor lvl = levels[i];
    torch::Tensor keep = RemoveSmallBoxes(boxes, kMinProposalSize);
    boxes = boxes.index({keep}), scores = scores.index({keep}), lvl = lvl.index({keep});
    keep = torch::where(scores >= options_.score_thresh)[0];
    boxes = boxes.index({keep}), scores = scores.index({keep}), lvl = lvl.index({keep});
    keep = BatchedNms(boxes, scores, lvl, options_.nms_thresh).slice(0, 0, PostNmsTopN());
    final_boxes.push_back(boxes.index({keep}));
  }
  return final_boxes;
}

std::pair<torch::Tensor, torch::Tensor> RegionProposalNetworkImpl::Losses(
    const torch::Tensor& objectness, const torch::Tensor& pred_bbox_deltas, const std::vector<torch::Tensor>& anchors,
    const std::vector<DetectionTarget>& targets) const {
  std::vector<torch::Tensor> labels, matched_gt_boxes;
  for (size_t i = 0; i < anchors.size(); ++i) {
    const torch::Tensor& gt_boxes = targets[i].boxes;
    if (gt_boxes.numel() == 0) {
      matched_gt_boxes.push_back(torch::zeros(anchors[i].sizes(), torch::kFloat));
      labels.push_back(torch::zeros({anchors[i].size(0)}, torch::kFloat));
      continue;
    }
    const torch::Tensor matched_idxs = proposal_matcher_(BoxIou(gt_boxes, anchors[i]));
    matched_gt_boxes.push_back(gt_boxes.index({matched_idxs.clamp_min(0)}));
    torch::Tensor l = (matched_idxs >= 0).to(torch::kFloat);
    l.index_put_({matched_idxs == Matcher::kBelowLowThreshold}, 0.0);
    l.index_put_({matched_idxs == Matcher::kBetweenThresholds}, -1.0);
    labels.push_back(l);
  }
  const std::vector<torch::Tensor> regression_targets = box_coder_.Encode(matched_gt_boxes, anchors);

  auto [pos_masks, neg_masks] = fg_bg_sampler_(labels);
  const torch::Tensor pos = torch::where(torch::cat(pos_masks, 0))[0];
  const torch::Tensor neg = torch::where(torch::cat(neg_masks, 0))[0];
  const torch::Tensor sampled = torch::cat({pos, neg}, 0);
  // torch::smooth_l1_loss directly: libtorch 1.13's F::smooth_l1_loss ignores SmoothL1LossFuncOptions::beta.
  const torch::Tensor box_loss = torch::smooth_l1_loss(pred_bbox_deltas.index({pos}),
                                                       torch::cat(regression_targets, 0).index({pos}),
                                                       at::Reduction::Sum, 1.0 / 9) /
                                 sampled.numel();
  const torch::Tensor objectness_loss = F::binary_cross_entropy_with_logits(
      objectness.flatten().index({sampled}), torch::cat(labels, 0).index({sampled}));
  return {objectness_loss, box_loss};
}

RpnOutput RegionProposalNetworkImpl::forward(const ImageList& images, const FeatureMaps& features,
                                             const std::vector<DetectionTarget>* targets) {
  if (is_training() && targets == nullptr) throw UsageError("RegionProposalNetwork: training needs targets");
  std::vector<torch::Tensor> maps;
  for (const auto& named : features) maps.push_back(named.second);
  auto [objectness_levels, deltas_levels] = head->forward(maps);
  const std::vector<torch::Tensor> anchors = anchor_generator_.forward(images, maps);
  const int64_t num_images = static_cast<int64_t>(anchors.size());
  std::vector<int64_t> anchors_per_level;
  for (const auto& o : objectness_levels) anchors_per_level.push_back(o.size(1) * o.size(2) * o.size(3));
  auto [objectness, pred_bbox_deltas] = ConcatBoxPredictionLayers(objectness_levels, deltas_levels);
  const torch::Tensor proposals = box_coder_.Decode(pred_bbox_deltas.detach(), anchors).view({num_images, -1, 4});

  RpnOutput output;
  output.boxes = FilterProposals(proposals, objectness, images.image_sizes, anchors_per_level);
  if (is_training()) {
    if (targets->size() != anchors.size()) {
      throw UsageError("RegionProposalNetwork: " + std::to_string(targets->size()) + " targets for " +
                       std::to_string(anchors.size()) + " images");
    }
    std::tie(output.loss_objectness, output.loss_rpn_box_reg) =
        Losses(objectness, pred_bbox_deltas, anchors, *targets);
  }
  return output;
}

}  // namespace segtune::detection
