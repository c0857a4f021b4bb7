#include "segtune/models/detection/transform.h"

#include <torch/torch.h>

#include <cmath>

#include "segtune/core/error.h"
#include "segtune/models/detection/paste_masks.h"

namespace segtune::detection {

namespace F = torch::nn::functional;

namespace {

// torchvision's _resize_image_and_masks output size: with recompute_scale_factor=True the size is
// floor(in * scale) in double precision, scale being the float32 min of the two ratios.
std::vector<int64_t> ResizedSize(int64_t h, int64_t w, double min_size, double max_size) {
  const float min_side = static_cast<float>(std::min(h, w));
  const float max_side = static_cast<float>(std::max(h, w));
  const float scale = std::min(static_cast<float>(min_size / min_side), static_cast<float>(max_size / max_side));
  return {static_cast<int64_t>(std::floor(static_cast<double>(h) * static_cast<double>(scale))),
          static_cast<int64_t>(std::floor(static_cast<double>(w) * static_cast<double>(scale)))};
}

}  // namespace

GeneralizedRCNNTransformImpl::GeneralizedRCNNTransformImpl(std::vector<int64_t> min_size, int64_t max_size,
                                                           std::vector<double> image_mean,
                                                           std::vector<double> image_std, int64_t size_divisible,
                                                           std::optional<ImageSize> fixed_size)
    : min_size_(std::move(min_size)),
      max_size_(max_size),
      image_mean_(std::move(image_mean)),
      image_std_(std::move(image_std)),
      size_divisible_(size_divisible),
      fixed_size_(fixed_size) {
  if (min_size_.empty()) throw UsageError("GeneralizedRCNNTransform: min_size needs at least one value");
}

torch::Tensor GeneralizedRCNNTransformImpl::Normalize(const torch::Tensor& image) const {
  if (!image.is_floating_point()) {
    throw UsageError("GeneralizedRCNNTransform: expected a floating point image, got " +
                     std::string(c10::toString(image.scalar_type())));
  }
  const auto options = image.options();
  const torch::Tensor mean = torch::tensor(image_mean_, torch::kDouble).to(options).view({-1, 1, 1});
  const torch::Tensor std = torch::tensor(image_std_, torch::kDouble).to(options).view({-1, 1, 1});
  return (image - mean) / std;
}

torch::Tensor GeneralizedRCNNTransformImpl::Resize(const torch::Tensor& image, DetectionTarget* target) const {
  const int64_t h = image.size(-2), w = image.size(-1);
  int64_t size = min_size_.back();
  if (is_training()) {  // torchvision's torch_choice, drawn from torch's generator.
    const double u = torch::empty({1}).uniform_(0.0, static_cast<double>(min_size_.size())).item<float>();
    size = min_size_[static_cast<size_t>(u)];
  }
  const std::vector<int64_t> out_size =
      fixed_size_ ? std::vector<int64_t>{(*fixed_size_)[0], (*fixed_size_)[1]}
                  : ResizedSize(h, w, static_cast<double>(size), static_cast<double>(max_size_));
  const torch::Tensor resized =
      F::interpolate(image.unsqueeze(0),
                     F::InterpolateFuncOptions().size(out_size).mode(torch::kBilinear).align_corners(false))[0];
  if (target == nullptr) return resized;
  if (target->boxes.defined()) target->boxes = ResizeBoxes(target->boxes, {h, w}, {out_size[0], out_size[1]});
  if (target->masks.defined() && target->masks.numel() > 0) {
    target->masks = F::interpolate(target->masks.unsqueeze(1).to(torch::kFloat),
                                   F::InterpolateFuncOptions().size(out_size).mode(torch::kNearest))
                        .select(1, 0)
                        .to(torch::kUInt8);
  } else if (target->masks.defined()) {
    target->masks = torch::zeros({0, out_size[0], out_size[1]}, torch::kUInt8);
  }
  return resized;
}

torch::Tensor GeneralizedRCNNTransformImpl::BatchImages(const std::vector<torch::Tensor>& images) const {
  std::vector<int64_t> max_size(images[0].sizes().begin(), images[0].sizes().end());
  for (const auto& img : images) {
    for (size_t d = 0; d < max_size.size(); ++d) max_size[d] = std::max(max_size[d], img.size(d));
  }
  const double stride = static_cast<double>(size_divisible_);
  for (size_t d = 1; d < 3; ++d) {
    max_size[d] = static_cast<int64_t>(std::ceil(static_cast<double>(max_size[d]) / stride) * stride);
  }
  std::vector<int64_t> batch_shape{static_cast<int64_t>(images.size())};
  batch_shape.insert(batch_shape.end(), max_size.begin(), max_size.end());
  torch::Tensor batched = torch::zeros(batch_shape, images[0].options());
  for (size_t i = 0; i < images.size(); ++i) {
    const auto& img = images[i];
    batched[i].slice(0, 0, img.size(0)).slice(1, 0, img.size(1)).slice(2, 0, img.size(2)).copy_(img);
  }
  return batched;
}

ImageList GeneralizedRCNNTransformImpl::forward(const std::vector<torch::Tensor>& images,
                                                std::vector<DetectionTarget>* targets) {
  if (images.empty()) throw UsageError("GeneralizedRCNNTransform: no images");
  if (targets != nullptr && targets->size() != images.size()) {
    throw UsageError("GeneralizedRCNNTransform: " + std::to_string(targets->size()) + " targets for " +
                     std::to_string(images.size()) + " images");
  }
  std::vector<torch::Tensor> resized;
  ImageList list;
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].dim() != 3) {
      throw UsageError("GeneralizedRCNNTransform: image " + std::to_string(i) + ": expected [C,H,W], got " +
                       c10::str(images[i].sizes()));
    }
    torch::Tensor image = Resize(Normalize(images[i]), targets != nullptr ? &(*targets)[i] : nullptr);
    list.image_sizes.push_back({image.size(-2), image.size(-1)});
    resized.push_back(image);
  }
  list.tensors = BatchImages(resized);
  return list;
}

std::vector<Detections> GeneralizedRCNNTransformImpl::postprocess(std::vector<Detections> detections,
                                                                  const std::vector<ImageSize>& image_sizes,
                                                                  const std::vector<ImageSize>& original_sizes) const {
  if (is_training()) return detections;
  for (size_t i = 0; i < detections.size(); ++i) {
    Detections& d = detections[i];
    d.boxes = ResizeBoxes(d.boxes, image_sizes[i], original_sizes[i]);
    if (d.masks.defined()) d.masks = PasteMasksInImage(d.masks, d.boxes, original_sizes[i]);
  }
  return detections;
}

torch::Tensor ResizeBoxes(const torch::Tensor& boxes, ImageSize from, ImageSize to) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat).device(boxes.device());
  const torch::Tensor ratio_h = torch::tensor(static_cast<float>(to[0]), options) /
                                torch::tensor(static_cast<float>(from[0]), options);
  const torch::Tensor ratio_w = torch::tensor(static_cast<float>(to[1]), options) /
                                torch::tensor(static_cast<float>(from[1]), options);
  return torch::stack({boxes.select(1, 0) * ratio_w, boxes.select(1, 1) * ratio_h, boxes.select(1, 2) * ratio_w,
                       boxes.select(1, 3) * ratio_h},
                      1);
}

}  // namespace segtune::detection
