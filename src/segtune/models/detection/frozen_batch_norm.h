// torchvision's FrozenBatchNorm2d (ops/misc.py) on the project's BatchNorm2d modules.
//
// The COCO detection checkpoints are trained with FrozenBatchNorm2d: fixed affine parameters and
// running statistics, eps 1e-5, y = x * w * rsqrt(var + eps) + (b - mean * w * rsqrt(var + eps)),
// whatever the training mode. segtune keeps the shared backbones' torch::nn::BatchNorm2d modules
// (so the exporter's BatchNorm folding and the trainer's BatchNorm handling apply unchanged) and
// freezes them instead: eps set, evaluation mode, weight and bias excluded from gradients. The
// result equals FrozenBatchNorm2d up to float rounding (ATen folds the same scale and shift).
// State-dict names are the same; BatchNorm2d's extra `num_batches_tracked` buffer is not in
// torchvision's detection checkpoints (FrozenBatchNorm2d drops it when loading, so files segtune
// writes still load in torchvision).
#pragma once

#include <string>

namespace torch::nn {
class Module;
}

namespace segtune::detection {

// torchvision.ops.misc.FrozenBatchNorm2d's default eps.
inline constexpr double kFrozenBatchNormEps = 1e-5;

// Freezes every BatchNorm2d under `root`: eps = `eps`, eval(), weight/bias requires_grad = false.
// Returns how many modules were frozen. Call again after root.train(): a module's train() switches
// its children back (GeneralizedRCNN does this itself).
int FreezeBatchNorm(torch::nn::Module& root, double eps = kFrozenBatchNormEps);

// torchvision's nn.BatchNorm2d defaults, which its detection builders use as norm_layer when no
// pretrained weights are given (faster_rcnn.py: `FrozenBatchNorm2d if is_trained else nn.BatchNorm2d`).
inline constexpr double kBatchNormEps = 1e-5;
inline constexpr double kBatchNormMomentum = 0.1;

// Makes every BatchNorm2d under `root` a trainable nn.BatchNorm2d() as torchvision passes it:
// eps 1e-5, momentum 0.1 (replacing e.g. MobileNetV3's own 1e-3 / 0.01), weight and bias
// trainable. In eval mode such a module with running statistics equals FrozenBatchNorm2d holding
// the same tensors (same eps), so weights trained this way load into the frozen form for
// inference. Returns how many modules were set.
int UseTrainableBatchNorm(torch::nn::Module& root);

// Sets every BatchNorm2d under `root` back to eval() without touching anything else (the part of
// FreezeBatchNorm that train(true) undoes).
void KeepBatchNormInEval(torch::nn::Module& root);

// True for a state-dict name BatchNorm2d has and FrozenBatchNorm2d has not ("...num_batches_tracked").
bool IsBatchNormCounter(const std::string& name);

}  // namespace segtune::detection
