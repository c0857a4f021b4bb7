// Region proposal network, as torchvision.models.detection.rpn (0.14): RPNHead with the same
// parameter names (conv.0.0.weight, conv.0.0.bias, cls_logits.*, bbox_pred.*) and
// RegionProposalNetwork (proposal decoding, per-level top-n, clipping, small-box and score
// filtering, per-level NMS; in training the objectness and box-regression losses).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <utility>
#include <vector>

#include "segtune/config/detection_options.h"  // RpnOptions.
#include "segtune/models/conv_kernel.h"
#include "segtune/models/detection/anchor_generator.h"
#include "segtune/models/detection/box_ops.h"
#include "segtune/models/detection/types.h"

namespace segtune::detection {

// conv_depth x (3x3 conv + ReLU) shared over levels, then 1x1 convs for objectness (num_anchors
// channels) and box deltas (4 * num_anchors). Weights init as torchvision: normal(std=0.01), bias 0.
// ConvSlots (models/conv_kernel.h): conv.<i>.0 (with its ReLU), cls_logits, bbox_pred.
class RPNHeadImpl : public torch::nn::Module, public ConvKernelHost {
 public:
  RPNHeadImpl(int64_t in_channels, int64_t num_anchors, int64_t conv_depth = 1);
  // Per level: {objectness [B,A,H,W], bbox deltas [B,4A,H,W]}.
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& features);
  std::vector<ConvSlot> ConvSlots() override;

  torch::nn::ModuleList conv{nullptr};  // conv_depth x Sequential(Conv2d, ReLU): "conv.<i>.0.*".
  torch::nn::Conv2d cls_logits{nullptr};
  torch::nn::Conv2d bbox_pred{nullptr};
  std::vector<ConvKernelPtr> conv_kernels;  // One per conv block; null: LibTorch.
  ConvKernelPtr cls_kernel, bbox_kernel;
};
TORCH_MODULE(RPNHead);

struct RpnOutput {
  std::vector<torch::Tensor> boxes;  // Per image: [P_i,4] proposals (detached), best first per level.
  torch::Tensor loss_objectness;     // Training only (else undefined): BCE-with-logits over sampled anchors.
  torch::Tensor loss_rpn_box_reg;    // Training only: smooth-L1 (beta 1/9) summed over sampled positives / sampled count.
};

// State dict: head.* only (the anchor generator has no tensors), as torchvision's rpn.*.
class RegionProposalNetworkImpl : public torch::nn::Module {
 public:
  RegionProposalNetworkImpl(AnchorGenerator anchor_generator, RPNHead head, RpnOptions options = {});

  // features: every backbone map, in order (all are used, as torchvision). In training mode
  // (is_training()) targets must hold one DetectionTarget per image (boxes used) and the losses are
  // computed; the sampler draws from torch's global generator. Throws UsageError when training
  // without targets.
  RpnOutput forward(const ImageList& images, const FeatureMaps& features,
                    const std::vector<DetectionTarget>* targets = nullptr);

  const RpnOptions& options() const { return options_; }
  const AnchorGenerator& anchor_generator() const { return anchor_generator_; }

  RPNHead head{nullptr};

 private:
  int64_t PreNmsTopN() const;
  int64_t PostNmsTopN() const;
  // torchvision's filter_proposals: per image, the kept proposals.
  std::vector<torch::Tensor> FilterProposals(const torch::Tensor& proposals, torch::Tensor objectness,
                                             const std::vector<ImageSize>& image_sizes,
                                             const std::vector<int64_t>& anchors_per_level) const;
  // torchvision's assign_targets_to_anchors + compute_loss: {loss_objectness, loss_rpn_box_reg}.
  std::pair<torch::Tensor, torch::Tensor> Losses(const torch::Tensor& objectness, const torch::Tensor& pred_bbox_deltas,
                                                 const std::vector<torch::Tensor>& anchors,
                                                 const std::vector<DetectionTarget>& targets) const;

  AnchorGenerator anchor_generator_;
  RpnOptions options_;
  BoxCoder box_coder_{{1.0, 1.0, 1.0, 1.0}};
  Matcher proposal_matcher_;
  BalancedPositiveNegativeSampler fg_bg_sampler_;
};
TORCH_MODULE(RegionProposalNetwork);

}  // namespace segtune::detection
