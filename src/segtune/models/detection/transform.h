// Input/output transformation of the R-CNN models, as torchvision's GeneralizedRCNNTransform
// (0.14): normalize, resize (targets too), pad into a batch; postprocess maps detections back to
// the original image sizes. A module without tensors, so that train()/eval() reach it.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <optional>
#include <vector>

#include "segtune/models/detection/types.h"

namespace segtune::detection {

class GeneralizedRCNNTransformImpl : public torch::nn::Module {
 public:
  // min_size: one value, or several (training picks one per image with torch's generator, as
  // torch_choice; eval uses the last). fixed_size {h, w}: resize to exactly that instead
  // (torchvision's fixed_size tuple is (w, h): pass it swapped).
  GeneralizedRCNNTransformImpl(std::vector<int64_t> min_size, int64_t max_size, std::vector<double> image_mean,
                               std::vector<double> image_std, int64_t size_divisible = 32,
                               std::optional<ImageSize> fixed_size = std::nullopt);

  // images: [C,H,W] float in [0,1], sizes may differ. targets (optional, same length): boxes are
  // scaled and masks resized (nearest) in place. Returns the padded batch ([B,C,H',W'], H', W'
  // multiples of size_divisible) and each resized size. Throws UsageError on bad shapes or on a
  // targets count that differs from the images count.
  ImageList forward(const std::vector<torch::Tensor>& images, std::vector<DetectionTarget>* targets = nullptr);

  // Eval mode only (training returns the input unchanged, as torchvision): boxes scaled from
  // image_sizes[i] (resized) to original_sizes[i]; masks [N,1,h,w] (the mask head's probabilities)
  // pasted into [N,1,H,W] of the original image (PasteMasksInImage).
  std::vector<Detections> postprocess(std::vector<Detections> detections, const std::vector<ImageSize>& image_sizes,
                                      const std::vector<ImageSize>& original_sizes) const;

  // Pieces, public for tests and export.
  torch::Tensor Normalize(const torch::Tensor& image) const;
  // Resizes one image (and its target) as torchvision's _resize_image_and_masks.
  torch::Tensor Resize(const torch::Tensor& image, DetectionTarget* target) const;
  torch::Tensor BatchImages(const std::vector<torch::Tensor>& images) const;

 private:
  std::vector<int64_t> min_size_;
  int64_t max_size_;
  std::vector<double> image_mean_;
  std::vector<double> image_std_;
  int64_t size_divisible_;
  std::optional<ImageSize> fixed_size_;
};
TORCH_MODULE(GeneralizedRCNNTransform);

// Boxes [N,4] scaled from image size `from` to `to` (torchvision's resize_boxes).
torch::Tensor ResizeBoxes(const torch::Tensor& boxes, ImageSize from, ImageSize to);

}  // namespace segtune::detection
