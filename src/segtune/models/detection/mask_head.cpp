#include "segtune/models/detection/mask_head.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/init.h>

#include <string>

#include "segtune/models/detection/roi_align.h"

namespace segtune::detection {
namespace {

void KaimingFanOut(const torch::Tensor& weight, const torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  torch::nn::init::zeros_(bias);
}

}  // namespace

MaskRCNNHeadsImpl::MaskRCNNHeadsImpl(int64_t in_channels, std::vector<int64_t> layers, int64_t dilation) {
  int64_t next = in_channels;
  for (size_t i = 0; i < layers.size(); ++i) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(next, layers[i], 3).padding(dilation).dilation(dilation).bias(true));
    KaimingFanOut(conv->weight, conv->bias);
    blocks.push_back(register_module(std::to_string(i), torch::nn::Sequential(conv)));
    next = layers[i];
  }
}

torch::Tensor MaskRCNNHeadsImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (auto& block : blocks) y = torch::relu(block->forward(y));
  return y;
}

MaskRCNNPredictorImpl::MaskRCNNPredictorImpl(int64_t in_channels, int64_t dim_reduced, int64_t num_classes) {
  conv5_mask = register_module(
      "conv5_mask", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in_channels, dim_reduced, 2).stride(2)));
  mask_fcn_logits = register_module("mask_fcn_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim_reduced, num_classes, 1)));
  KaimingFanOut(conv5_mask->weight, conv5_mask->bias);
  KaimingFanOut(mask_fcn_logits->weight, mask_fcn_logits->bias);
}

torch::Tensor MaskRCNNPredictorImpl::forward(const torch::Tensor& x) {
  return mask_fcn_logits->forward(torch::relu(conv5_mask->forward(x)));
}

std::vector<torch::Tensor> MaskRCNNInference(const torch::Tensor& mask_logits, const std::vector<torch::Tensor>& labels) {
  std::vector<int64_t> counts;
  for (const auto& l : labels) counts.push_back(l.size(0));
  const torch::Tensor all_labels = torch::cat(labels);
  const torch::Tensor index = torch::arange(mask_logits.size(0), all_labels.options());
  const torch::Tensor probs = mask_logits.sigmoid().index({index, all_labels}).unsqueeze(1);
  return probs.split_with_sizes(counts, 0);
}

torch::Tensor MaskRCNNLoss(const torch::Tensor& mask_logits, const std::vector<torch::Tensor>& proposals,
                           const std::vector<torch::Tensor>& gt_masks, const std::vector<torch::Tensor>& gt_labels,
                           const std::vector<torch::Tensor>& matched_idxs) {
  const int64_t m = mask_logits.size(-1);
  std::vector<torch::Tensor> labels, targets;
  for (size_t i = 0; i < proposals.size(); ++i) {
    labels.push_back(gt_labels[i].index({matched_idxs[i]}));
    // project_masks_on_boxes: RoIAlign of the image's gt masks with the matched index as batch index.
    const torch::Tensor rois = torch::cat({matched_idxs[i].to(proposals[i].dtype()).unsqueeze(1), proposals[i]}, 1);
    const torch::Tensor masks = gt_masks[i].unsqueeze(1).to(rois.dtype());
    targets.push_back(RoiAlign(masks, rois, {m, m}, 1.0, /*sampling_ratio=*/-1, /*aligned=*/false).select(1, 0));
  }
  const torch::Tensor all_labels = torch::cat(labels);
  const torch::Tensor all_targets = torch::cat(targets);
  if (all_targets.numel() == 0) return mask_logits.sum() * 0;
  const torch::Tensor index = torch::arange(all_labels.size(0), all_labels.options());
  return torch::binary_cross_entropy_with_logits(mask_logits.index({index, all_labels}), all_targets);
}

}  // namespace segtune::detection
