// The box branch of Faster R-CNN's RoI heads, as torchvision.models.detection.faster_rcnn (0.14):
// TwoMLPHead and FastRCNNPredictor, with their parameter names (fc6, fc7, cls_score, bbox_pred).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <utility>

namespace segtune::detection {

// x [K, in_channels...] flattened -> relu(fc6) -> relu(fc7): [K, representation_size].
// PyTorch's default Linear initialisation, as torchvision.
class TwoMLPHeadImpl : public torch::nn::Module {
 public:
  TwoMLPHeadImpl(int64_t in_channels, int64_t representation_size);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc6{nullptr};
  torch::nn::Linear fc7{nullptr};
};
TORCH_MODULE(TwoMLPHead);

// x [K, in_channels] -> {class logits [K, num_classes], box deltas [K, 4 * num_classes]}.
// cls_score and bbox_pred are the class-specific layers replaced by transfer surgery.
class FastRCNNPredictorImpl : public torch::nn::Module {
 public:
  FastRCNNPredictorImpl(int64_t in_channels, int64_t num_classes);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

  torch::nn::Linear cls_score{nullptr};
  torch::nn::Linear bbox_pred{nullptr};
};
TORCH_MODULE(FastRCNNPredictor);

}  // namespace segtune::detection
