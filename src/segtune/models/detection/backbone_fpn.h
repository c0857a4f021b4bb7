// torchvision's BackboneWithFPN and the two detection backbones built on it
// (models/detection/backbone_utils.py, 0.14): resnet_fpn_backbone and mobilenet_backbone(fpn=True).
//
// The body is the project's shared ResNet / MobileNetV3-Large (no dilation) with every BatchNorm
// either frozen as torchvision's FrozenBatchNorm2d (frozen_batch_norm.h; pretrained weights) or a
// trainable nn.BatchNorm2d (training from scratch), as norm_layer in torchvision; either way checkpoint keys read
// "backbone.body.layer1.0.conv1.weight", "backbone.body.0.0.weight" (MobileNetV3 features) and
// "backbone.fpn.inner_blocks.0.0.weight".
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "segtune/models/backbone.h"
#include "segtune/models/detection/fpn.h"
#include "segtune/models/detection/types.h"

namespace segtune::detection {

// Children "body" (a segtune backbone whose return layers are set) and "fpn".
class BackboneWithFPNImpl : public torch::nn::Module {
 public:
  // returned: the body's children to return, in order; they are named "0", "1", ... as
  // torchvision's return_layers. in_channels_list: their channel counts.
  BackboneWithFPNImpl(std::shared_ptr<BackboneImpl> body, std::vector<std::string> returned,
                      std::vector<int64_t> in_channels_list, int64_t out_channels = 256);

  // x [B,3,H,W] normalised images -> the FPN's maps "0", "1", ..., "pool".
  FeatureMaps forward(const torch::Tensor& x);

  const int64_t out_channels;
  std::shared_ptr<BackboneImpl> body;
  FeaturePyramidNetwork fpn{nullptr};

 private:
  std::vector<std::string> feature_names_;
};
TORCH_MODULE(BackboneWithFPN);

// resnet_fpn_backbone("resnet50", norm_layer=FrozenBatchNorm2d): layer1..layer4 returned
// (in channels 256, 512, 1024, 2048), FPN 256 channels with LastLevelMaxPool.
// trainable_layers 0..5: parameters outside the last `trainable_layers` of
// [layer4, layer3, layer2, layer1, conv1] (+bn1 at 5) get requires_grad false. Throws UsageError
// outside 0..5. frozen_batch_norm: FrozenBatchNorm2d, else trainable BatchNorm2d (eps 1e-5,
// momentum 0.1) whose weight/bias follow trainable_layers as the convolutions.
BackboneWithFPN ResNet50FpnBackbone(int trainable_layers, bool frozen_batch_norm = true);

// mobilenet_backbone("mobilenet_v3_large", fpn=True, norm_layer=FrozenBatchNorm2d): the features'
// last two stages (children "13" and "16", 160 and 960 channels) returned, FPN 256 channels with
// LastLevelMaxPool. trainable_layers 0..6 counts stages from the end (stage starts {0,2,4,7,13,16});
// children before the first trainable stage get requires_grad false. Throws UsageError outside 0..6.
// frozen_batch_norm as ResNet50FpnBackbone.
BackboneWithFPN MobileNetV3LargeFpnBackbone(int trainable_layers, bool frozen_batch_norm = true);

}  // namespace segtune::detection
