#include "segtune/models/detection/anchor_generator.h"

#include <torch/torch.h>

#include "segtune/core/error.h"

namespace segtune::detection {

namespace {

// torchvision's generate_anchors: zero-centred anchors in float32, rounded.
torch::Tensor CellAnchors(const std::vector<double>& sizes, const std::vector<double>& aspect_ratios) {
  const torch::Tensor scales = torch::tensor(sizes, torch::kDouble).to(torch::kFloat);
  const torch::Tensor ratios = torch::tensor(aspect_ratios, torch::kDouble).to(torch::kFloat);
  const torch::Tensor h_ratios = torch::sqrt(ratios);
  const torch::Tensor w_ratios = 1 / h_ratios;
  const torch::Tensor ws = (w_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
  const torch::Tensor hs = (h_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
  return (torch::stack({-ws, -hs, ws, hs}, 1) / 2).round();
}

}  // namespace

AnchorGenerator::AnchorGenerator(std::vector<std::vector<double>> sizes, std::vector<std::vector<double>> aspect_ratios)
    : sizes_(std::move(sizes)), aspect_ratios_(std::move(aspect_ratios)) {
  if (sizes_.size() != aspect_ratios_.size()) {
    throw UsageError("AnchorGenerator: " + std::to_string(sizes_.size()) + " levels of sizes but " +
                     std::to_string(aspect_ratios_.size()) + " levels of aspect ratios");
  }
  for (size_t l = 0; l < sizes_.size(); ++l) cell_anchors_.push_back(CellAnchors(sizes_[l], aspect_ratios_[l]));
}

std::vector<int64_t> AnchorGenerator::NumAnchorsPerLocation() const {
  std::vector<int64_t> counts;
  for (size_t l = 0; l < sizes_.size(); ++l) counts.push_back(sizes_[l].size() * aspect_ratios_[l].size());
  return counts;
}

std::vector<torch::Tensor> AnchorGenerator::forward(const ImageList& images,
                                                    const std::vector<torch::Tensor>& feature_maps) const {
  if (feature_maps.size() != cell_anchors_.size()) {
    throw UsageError("AnchorGenerator: " + std::to_string(feature_maps.size()) + " feature maps for " +
                     std::to_string(cell_anchors_.size()) + " anchor levels (sizes / aspect_ratios per level)");
  }
  const int64_t image_h = images.tensors.size(-2);
  const int64_t image_w = images.tensors.size(-1);
  const auto options = feature_maps[0].options();
  std::vector<torch::Tensor> levels;
  for (size_t l = 0; l < feature_maps.size(); ++l) {
    const int64_t grid_h = feature_maps[l].size(-2);
    const int64_t grid_w = feature_maps[l].size(-1);
    const int64_t stride_h = image_h / grid_h;
    const int64_t stride_w = image_w / grid_w;
    const torch::Tensor shifts_x = torch::arange(0, grid_w, torch::kLong) * stride_w;
    const torch::Tensor shifts_y = torch::arange(0, grid_h, torch::kLong) * stride_h;
    const std::vector<torch::Tensor> mesh = torch::meshgrid({shifts_y, shifts_x}, "ij");
    const torch::Tensor shift_y = mesh[0].reshape(-1);
    const torch::Tensor shift_x = mesh[1].reshape(-1);
    const torch::Tensor shifts = torch::stack({shift_x, shift_y, shift_x, shift_y}, 1).to(options);
    const torch::Tensor base = cell_anchors_[l].to(options);
    levels.push_back((shifts.view({-1, 1, 4}) + base.view({1, -1, 4})).reshape({-1, 4}));
  }
  const torch::Tensor all = torch::cat(levels, 0);
  return std::vector<torch::Tensor>(images.image_sizes.size(), all);
}

}  // namespace segtune::detection
