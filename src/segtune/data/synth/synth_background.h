// Backgrounds for synthetic photographs: a scene style (wall over a floor, a wooden table top, tiles,
// fabric, concrete, or outdoors) plus non-object clutter (blobs, papers with print, cables, crumbs)
// that the model must learn to call background.
#pragma once

#include <opencv2/core.hpp>

#include "segtune/data/synth/synth_random.h"

namespace segtune::synth {

// A CV_8UC3 background of `size`. Deterministic for the generator's state.
cv::Mat RenderBackground(cv::Size size, Random& rng);

}  // namespace segtune::synth
