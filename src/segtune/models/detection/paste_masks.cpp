#include "segtune/models/detection/paste_masks.h"

#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>

#include <algorithm>

#include "segtune/core/error.h"

namespace segtune::detection {
namespace {

// torchvision's expand_boxes: each box scaled about its centre (float32 arithmetic as the reference).
torch::Tensor ExpandBoxes(const torch::Tensor& boxes, double scale) {
  const torch::Tensor w_half = (boxes.select(1, 2) - boxes.select(1, 0)) * 0.5 * scale;
  const torch::Tensor h_half = (boxes.select(1, 3) - boxes.select(1, 1)) * 0.5 * scale;
  const torch::Tensor x_c = (boxes.select(1, 2) + boxes.select(1, 0)) * 0.5;
  const torch::Tensor y_c = (boxes.select(1, 3) + boxes.select(1, 1)) * 0.5;
  return torch::stack({x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half}, 1);
}

// torchvision's paste_mask_in_image: mask [M,M] resized to the integer box (+1 pixel, as the
// reference's TO_REMOVE) and copied into the part of the box inside the image.
torch::Tensor PasteOne(const torch::Tensor& mask, const int64_t* box, int64_t im_h, int64_t im_w) {
  const int64_t w = std::max<int64_t>(box[2] - box[0] + 1, 1);
  const int64_t h = std::max<int64_t>(box[3] - box[1] + 1, 1);
  const torch::Tensor resized =
      torch::nn::functional::interpolate(mask.expand({1, 1, -1, -1}), torch::nn::functional::InterpolateFuncOptions()
                                                                           .size(std::vector<int64_t>{h, w})
                                                                           .mode(torch::kBilinear)
                                                                           .align_corners(false))[0][0];
  torch::Tensor im_mask = torch::zeros({im_h, im_w}, mask.options());
  const int64_t x0 = std::max<int64_t>(box[0], 0), x1 = std::min<int64_t>(box[2] + 1, im_w);
  const int64_t y0 = std::max<int64_t>(box[1], 0), y1 = std::min<int64_t>(box[3] + 1, im_h);
  if (x1 > x0 && y1 > y0) {
    im_mask.slice(0, y0, y1).slice(1, x0, x1).copy_(
        resized.slice(0, y0 - box[1], y1 - box[1]).slice(1, x0 - box[0], x1 - box[0]));
  }
  return im_mask;
}

}  // namespace

torch::Tensor PasteMasksInImage(const torch::Tensor& masks, const torch::Tensor& boxes, ImageSize image, int64_t padding) {
  if (masks.dim() != 4 || masks.size(1) != 1 || masks.size(2) != masks.size(3) || boxes.dim() != 2 ||
      boxes.size(1) != 4 || boxes.size(0) != masks.size(0)) {
    throw UsageError("PasteMasksInImage: expected masks [N,1,M,M] and boxes [N,4], got " + c10::str(masks.sizes()) +
                     " and " + c10::str(boxes.sizes()));
  }
  const auto [im_h, im_w] = image;
  if (masks.size(0) == 0) return torch::zeros({0, 1, im_h, im_w}, masks.options());
  const int64_t m = masks.size(-1);
  const double scale = static_cast<double>(m + 2 * padding) / static_cast<double>(m);
  const torch::Tensor padded = torch::nn::functional::pad(
      masks, torch::nn::functional::PadFuncOptions({padding, padding, padding, padding}));
  const torch::Tensor int_boxes = ExpandBoxes(boxes, scale).to(torch::kInt64).contiguous();
  const int64_t* box = int_boxes.data_ptr<int64_t>();
  std::vector<torch::Tensor> pasted;
  pasted.reserve(masks.size(0));
  for (int64_t i = 0; i < masks.size(0); ++i) pasted.push_back(PasteOne(padded[i][0], box + 4 * i, im_h, im_w));
  return torch::stack(pasted).unsqueeze(1);
}

}  // namespace segtune::detection
