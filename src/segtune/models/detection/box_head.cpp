#include "segtune/models/detection/box_head.h"

namespace segtune::detection {

TwoMLPHeadImpl::TwoMLPHeadImpl(int64_t in_channels, int64_t representation_size) {
  fc6 = register_module("fc6", torch::nn::Linear(in_channels, representation_size));
  fc7 = register_module("fc7", torch::nn::Linear(representation_size, representation_size));
}

torch::Tensor TwoMLPHeadImpl::forward(const torch::Tensor& x) {
  return torch::relu(fc7->forward(torch::relu(fc6->forward(x.flatten(1)))));
}

FastRCNNPredictorImpl::FastRCNNPredictorImpl(int64_t in_channels, int64_t num_classes) {
  cls_score = register_module("cls_score", torch::nn::Linear(in_channels, num_classes));
  bbox_pred = register_module("bbox_pred", torch::nn::Linear(in_channels, num_classes * 4));
}

std::pair<torch::Tensor, torch::Tensor> FastRCNNPredictorImpl::forward(const torch::Tensor& x) {
  const torch::Tensor flat = x.flatten(1);
  return {cls_score->forward(flat), bbox_pred->forward(flat)};
}

}  // namespace segtune::detection
