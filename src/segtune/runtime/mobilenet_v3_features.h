// MobileNetV3-Large's `features` (torchvision 0.14, width 1.0) in the LibTorch-free runtime, from a
// segmentation model's weights (`backbone.0` .. `backbone.16`), BatchNorm folded: the same layers
// as models/mobilenet_v3.h, each convolution with its activation (and residual) fused in oneDNN.
#pragma once

#include <string>
#include <vector>

#include "segtune/runtime/conv_layer.h"
#include "segtune/runtime/mobilenet_v3_config.h"

namespace segtune {

class MobileNetV3Features {
 public:
  // Throws FormatError naming the file and tensor if a weight is missing or of another shape.
  MobileNetV3Features(const StateDict& dict, const std::string& prefix, bool dilated);

  // features[0 .. max(outputs)] over x (normalized NHWC images, 3 channels); returns the output of
  // each index in `outputs` (ascending), e.g. {4, 16} for LR-ASPP's low and high features.
  std::vector<NhwcTensor> Forward(NhwcTensor x, const std::vector<int>& outputs, Workspace& workspace) const;

  // torchvision's stage_indices: [0] + blocks that start a stage + [16] = {0, 2, 4, 7, 13, 16}.
  std::vector<int> StageIndices() const;
  int64_t OutChannels(int index) const;
  int convolutions() const;

 private:
  struct Block {
    ConvLayer expand, depthwise, squeeze, excite, project;  // expand, squeeze, excite may be empty.
    bool residual = false;
    NhwcTensor Forward(NhwcTensor x, Workspace& workspace) const;
  };
  std::vector<InvertedResidualConfig> config_;
  ConvLayer stem_, last_;
  std::vector<Block> blocks_;
};

}  // namespace segtune
