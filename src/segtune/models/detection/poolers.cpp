#include "segtune/models/detection/poolers.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "segtune/core/error.h"
#include "segtune/models/detection/box_ops.h"
#include "segtune/models/detection/roi_align.h"

namespace segtune::detection {

namespace {

// torchvision's _convert_to_roi_format: [K,5] (image index, box).
torch::Tensor RoisOf(const std::vector<torch::Tensor>& boxes) {
  const torch::Tensor concat = torch::cat(boxes, 0);
  std::vector<torch::Tensor> ids;
  for (size_t i = 0; i < boxes.size(); ++i) {
    ids.push_back(torch::full({boxes[i].size(0), 1}, static_cast<double>(i), concat.options()));
  }
  return torch::cat({torch::cat(ids, 0), concat}, 1);
}

// torchvision's _infer_scale: 2^round(log2(feature h / image h)) in float32, as a Python float.
double InferScale(const torch::Tensor& feature, int64_t image_h) {
  const double approx = static_cast<double>(feature.size(-2)) / static_cast<double>(image_h);
  const float exponent = torch::tensor(approx, torch::kDouble).to(torch::kFloat).log2().round().item<float>();
  return std::pow(2.0, static_cast<double>(exponent));
}

int64_t LevelOfScale(double scale) {
  return static_cast<int64_t>(-torch::tensor(scale, torch::kDouble).to(torch::kFloat).log2().item<float>());
}

}  // namespace

LevelMapper::LevelMapper(int64_t k_min, int64_t k_max, int64_t canonical_scale, int64_t canonical_level, double eps)
    : k_min_(k_min), k_max_(k_max), canonical_scale_(canonical_scale), canonical_level_(canonical_level), eps_(eps) {}

torch::Tensor LevelMapper::operator()(const std::vector<torch::Tensor>& boxes) const {
  std::vector<torch::Tensor> areas;
  for (const auto& b : boxes) areas.push_back(BoxArea(b));
  const torch::Tensor s = torch::sqrt(torch::cat(areas, 0));
  const torch::Tensor eps = torch::tensor(eps_, torch::kDouble).to(s.scalar_type());
  const torch::Tensor levels =
      torch::floor(canonical_level_ + torch::log2(s / canonical_scale_) + eps).clamp(k_min_, k_max_);
  return levels.to(torch::kLong) - k_min_;
}

MultiScaleRoIAlign::MultiScaleRoIAlign(std::vector<std::string> featmap_names, std::array<int64_t, 2> output_size,
                                       int64_t sampling_ratio, int64_t canonical_scale, int64_t canonical_level)
    : featmap_names_(std::move(featmap_names)),
      output_size_(output_size),
      sampling_ratio_(sampling_ratio),
      canonical_scale_(canonical_scale),
      canonical_level_(canonical_level) {}

torch::Tensor MultiScaleRoIAlign::forward(const FeatureMaps& features, const std::vector<torch::Tensor>& boxes,
                                          const std::vector<ImageSize>& image_sizes) const {
  std::vector<torch::Tensor> maps;
  for (const auto& [name, map] : features) {
    if (std::find(featmap_names_.begin(), featmap_names_.end(), name) != featmap_names_.end()) maps.push_back(map);
  }
  if (maps.empty()) throw UsageError("MultiScaleRoIAlign: none of the feature maps is in featmap_names");
  if (image_sizes.empty()) throw UsageError("MultiScaleRoIAlign: images list should not be empty");
  int64_t max_h = 0;
  for (const auto& size : image_sizes) max_h = std::max(max_h, size[0]);
  std::vector<double> scales;
  for (const auto& map : maps) scales.push_back(InferScale(map, max_h));

  const torch::Tensor rois = RoisOf(boxes);
  if (maps.size() == 1) return RoiAlign(maps[0], rois, output_size_, scales[0], sampling_ratio_, false);

  const LevelMapper mapper(LevelOfScale(scales.front()), LevelOfScale(scales.back()), canonical_scale_,
                           canonical_level_);
  const torch::Tensor levels = mapper(boxes);
  torch::Tensor result =
      torch::zeros({rois.size(0), maps[0].size(1), output_size_[0], output_size_[1]}, maps[0].options());
  for (size_t level = 0; level < maps.size(); ++level) {
    const torch::Tensor idx = torch::where(levels == static_cast<int64_t>(level))[0];
    const torch::Tensor pooled =
        RoiAlign(maps[level], rois.index({idx}), output_size_, scales[level], sampling_ratio_, false);
    result.index_put_({idx}, pooled.to(result.scalar_type()));
  }
  return result;
}

}  // namespace segtune::detection
