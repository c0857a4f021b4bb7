// Image + label-map augmentation and resizing for segmentation training (torch-free, OpenCV).
//
// Every random choice comes from the caller's generator, so a sample's augmentation is a pure function
// of the seed the dataset derives for it (resumed runs see identical inputs).
#pragma once

#include <cstdint>
#include <random>

#include <opencv2/core.hpp>

namespace segtune {

// TF's image_resizer: applied after augmentation, images bilinear (or as chosen), labels nearest.
struct ResizePolicy {
  enum class Kind { kIdentity, kKeepAspectRatio, kFixedShape };
  Kind kind = Kind::kIdentity;
  int min_dimension = 600;  // keep_aspect_ratio_resizer
  int max_dimension = 1024;
  bool pad_to_max_dimension = false;  // Pads to max x max (image 0, label ignore).
  int height = 0;  // fixed_shape_resizer
  int width = 0;
  int interpolation = 1;  // cv::INTER_LINEAR; NEAREST_NEIGHBOR = 0, BICUBIC = 2, AREA = 3.
};

struct AugmentOptions {
  float horizontal_flip_probability = 0;
  float vertical_flip_probability = 0;
  float min_scale = 1, max_scale = 1;  // Random uniform scale (1, 1 = off).
  int crop_height = 0, crop_width = 0;  // Random crop after scaling, padded with ignore (0 = off).
  float brightness_delta = 0;  // Adds U(-d, d) * 255 (TF random_adjust_brightness).
  float contrast_min = 1, contrast_max = 1;  // (x - mean) * f + mean, f ~ U(min, max).
  float saturation_min = 1, saturation_max = 1;
  float hue_delta = 0;  // Hue shift by U(-d, d) of a full turn.
  bool enabled() const;
};

// Applies the options in this order: flips, scale, crop, color. image: CV_8UC3 (RGB), label: CV_8UC1
// of the same size. Padding uses 0 for the image and ignore_label for the label.
void Augment(const AugmentOptions& options, std::mt19937_64& rng, int ignore_label, cv::Mat* image, cv::Mat* label);

// Resizes per the policy (label nearest-neighbour; padding with 0 / ignore_label).
void ApplyResize(const ResizePolicy& policy, int ignore_label, cv::Mat* image, cv::Mat* label);

// The size keep_aspect_ratio_resizer gives a height x width image: the short side becomes min_dimension
// unless the long side would then exceed max_dimension, in which case the long side becomes max_dimension.
cv::Size KeepAspectRatioSize(int height, int width, int min_dimension, int max_dimension);

}  // namespace segtune
