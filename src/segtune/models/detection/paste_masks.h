// Pasting the mask head's fixed-size masks into full images, as torchvision's
// roi_heads.paste_masks_in_image (0.14): boxes and masks are expanded by one pixel of padding,
// each mask is bilinearly resized to its (integer) box and written into a zero image.
#pragma once

#include <torch/types.h>

#include "segtune/models/detection/types.h"

namespace segtune::detection {

// masks [N,1,M,M] float, boxes [N,4] in the image's pixels, image {h, w} -> [N,1,h,w] float
// (values in the mask's range; the caller thresholds). N may be 0.
torch::Tensor PasteMasksInImage(const torch::Tensor& masks, const torch::Tensor& boxes, ImageSize image, int64_t padding = 1);

}  // namespace segtune::detection
