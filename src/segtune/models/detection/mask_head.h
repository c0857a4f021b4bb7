// The mask branch of Mask R-CNN, as torchvision.models.detection.mask_rcnn (0.14): MaskRCNNHeads
// and MaskRCNNPredictor with their parameter names, and the mask loss / inference helpers of
// roi_heads.py.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <vector>

namespace segtune::detection {

// layers.size() x (3x3 conv with bias, padding = dilation -> ReLU); children "0", "1", ... each a
// Sequential {"0": Conv2d} (torchvision's Conv2dNormActivation without norm), so keys read
// "mask_head.0.0.weight". Weights kaiming_normal(fan_out, relu), biases 0.
class MaskRCNNHeadsImpl : public torch::nn::Module {
 public:
  MaskRCNNHeadsImpl(int64_t in_channels, std::vector<int64_t> layers, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);

  std::vector<torch::nn::Sequential> blocks;
};
TORCH_MODULE(MaskRCNNHeads);

// conv5_mask (ConvTranspose2d 2x2 stride 2) -> ReLU -> mask_fcn_logits (1x1 conv to num_classes).
// Weights kaiming_normal(fan_out, relu), biases 0. mask_fcn_logits is class-specific.
class MaskRCNNPredictorImpl : public torch::nn::Module {
 public:
  MaskRCNNPredictorImpl(int64_t in_channels, int64_t dim_reduced, int64_t num_classes);
  torch::Tensor forward(const torch::Tensor& x);  // [K, C, M, M] -> [K, num_classes, 2M, 2M] logits.

  torch::nn::ConvTranspose2d conv5_mask{nullptr};
  torch::nn::Conv2d mask_fcn_logits{nullptr};
};
TORCH_MODULE(MaskRCNNPredictor);

// torchvision's maskrcnn_inference: sigmoid of each box's logits for its label, split per image.
// mask_logits [sum N_i, num_classes, M, M]; labels per image [N_i] -> per image [N_i, 1, M, M].
std::vector<torch::Tensor> MaskRCNNInference(const torch::Tensor& mask_logits, const std::vector<torch::Tensor>& labels);

// torchvision's maskrcnn_loss: the gt mask of each positive proposal cropped to the proposal by
// RoIAlign (M x M, scale 1, adaptive sampling, aligned false), then binary cross-entropy with the
// logits of the gt label. Zero (connected to the graph) when there are no positives.
// proposals, gt_masks [G_i,H,W], gt_labels [G_i] and matched_idxs [N_i] (index into the image's gt) per image.
torch::Tensor MaskRCNNLoss(const torch::Tensor& mask_logits, const std::vector<torch::Tensor>& proposals,
                           const std::vector<torch::Tensor>& gt_masks, const std::vector<torch::Tensor>& gt_labels,
                           const std::vector<torch::Tensor>& matched_idxs);

}  // namespace segtune::detection
