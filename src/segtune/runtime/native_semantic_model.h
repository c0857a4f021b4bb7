// A segmentation model run by the LibTorch-free runtime: an export directory's model.safetensors
// built into oneDNN convolutions (BatchNorm folded) and the few other operations its architecture
// needs, so that `segtune infer` runs it without loading LibTorch (libsegtune_infer_plugin.so).
//
//   Workspace workspace;                                   // One per thread.
//   NativeSemanticModel model("lraspp_mobilenet_v3_large", 21, StateDict::Load(dir / "model.safetensors"));
//   NhwcTensor logits = model.HeadLogits(std::move(normalized), workspace);
//
// Its logits equal the LibTorch path's (export/prepare_inference.h HeadLogits) to float rounding:
// the same folded weights, the same oneDNN primitives.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "segtune/runtime/mobilenet_v3_features.h"
#include "segtune/runtime/segmentation_heads.h"

namespace segtune {

// The architectures the runtime builds: lraspp_mobilenet_v3_large and deeplabv3_mobilenet_v3_large.
bool NativeRuntimeBuilds(const std::string& architecture);
const std::vector<std::string>& NativeRuntimeArchitectures();

class NativeSemanticModel {
 public:
  // Throws UsageError for an architecture the runtime does not build, FormatError naming the file
  // and tensor for weights that do not fit it.
  NativeSemanticModel(const std::string& architecture, int64_t num_classes, const StateDict& weights);

  // x: normalized images (n x H x W x 3, RGB). Returns the class logits at the classifier's
  // resolution (n x h x w x classes: 1/8 of H x W for LR-ASPP, 1/16 for DeepLabV3, rounded up), what
  // the models' forward() resizes bilinearly to H x W. Thread-safe with one workspace per thread.
  NhwcTensor HeadLogits(NhwcTensor x, Workspace& workspace) const;

  int convolutions() const;
  int64_t num_classes() const { return num_classes_; }

 private:
  std::string architecture_;
  int64_t num_classes_;
  MobileNetV3Features backbone_;
  int low_ = 0, high_ = 0;  // The backbone outputs the head reads (low_: LR-ASPP only).
  std::unique_ptr<LrasppHead> lraspp_;
  std::unique_ptr<DeepLabHead> deeplab_;
};

}  // namespace segtune
