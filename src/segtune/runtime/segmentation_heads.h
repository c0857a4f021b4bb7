// The segmentation heads of torchvision's MobileNetV3 models in the LibTorch-free runtime, from the
// weights under `classifier.`, BatchNorm folded (the same layers as models/lraspp.h and
// models/deeplabv3.h). Each returns the class logits at its input's resolution, before the models'
// final resize (which `segtune infer` fuses into its argmax).
#pragma once

#include <string>
#include <vector>

#include "segtune/runtime/conv_layer.h"

namespace segtune {

// LR-ASPP: low_classifier(low) + high_classifier(resize(cbr(high) * sigmoid(scale(pool(high))))).
class LrasppHead {
 public:
  LrasppHead(const StateDict& dict, int64_t low_channels, int64_t high_channels, int64_t num_classes);
  NhwcTensor Forward(const NhwcTensor& low, const NhwcTensor& high, Workspace& workspace) const;
  int convolutions() const { return 4; }

 private:
  ConvLayer cbr_, scale_, low_classifier_, high_classifier_;
};

// DeepLabHead: ASPP (1x1, three 3x3 at rates 12, 24, 36, image pooling; concatenated, projected),
// a 3x3 convolution, the 1x1 classifier.
class DeepLabHead {
 public:
  DeepLabHead(const StateDict& dict, int64_t in_channels, int64_t num_classes);
  NhwcTensor Forward(const NhwcTensor& x, Workspace& workspace) const;
  int convolutions() const { return 8; }

 private:
  std::vector<ConvLayer> branches_;  // convs.0 (1x1) and convs.1-3 (atrous).
  ConvLayer pooling_, project_, conv_, classifier_;
};

}  // namespace segtune
