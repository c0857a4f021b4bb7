// Timings of segtune's CPU NMS and RoIAlign (forward + backward) on fixed-seed inputs, in the
// format detection_ops_bench.py prints for torchvision.ops, so detection_ops_bench.sh can compare.
//   detection_ops_bench [--threads N] [--repeats R]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "segtune/models/detection/nms.h"
#include "segtune/models/detection/roi_align.h"
#include "bench_timing.h"

namespace {

using segtune::bench::MedianMs;

// The inputs detection_ops_bench.py builds: boxes in a 1000x800 image, RoIs on a 256x50x68 map.
torch::Tensor Boxes(int64_t n, double width, double height) {
  const torch::Tensor xy = torch::rand({n, 2}) * torch::tensor({width, height}, torch::kFloat);
  const torch::Tensor wh = torch::rand({n, 2}) * torch::tensor({width / 4, height / 4}, torch::kFloat) + 1;
  return torch::cat({xy, xy + wh}, 1);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, repeats = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::stoi(argv[i + 1]);
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const torch::Tensor boxes = Boxes(5000, 1000, 800);
  const torch::Tensor scores = torch::rand({5000});
  const double nms_ms = MedianMs(repeats, [&] { segtune::detection::Nms(boxes, scores, 0.5); });
  std::printf("nms 5000 boxes: %.3f ms\n", nms_ms);

  const torch::Tensor feature = torch::randn({1, 256, 50, 68});
  const torch::Tensor rois = torch::cat({torch::zeros({512, 1}), Boxes(512, 68 * 16, 50 * 16)}, 1);
  const torch::Tensor grad = torch::randn({512, 256, 7, 7});
  const double roi_ms = MedianMs(repeats, [&] {
    const torch::Tensor input = feature.detach().requires_grad_(true);
    segtune::detection::RoiAlign(input, rois, {7, 7}, 1.0 / 16, 2, false).backward(grad);
  });
  std::printf("roi_align fwd+bwd 512 rois 256x50x68: %.3f ms\n", roi_ms);
  return 0;
}
