// THE registry: one entry per module type that has an ONNX form. To export a new layer, write its
// emitter (emit_*.cpp) and add one line here.
#include <torch/torch.h>

#include <map>
#include <typeindex>

#include "segtune/export/emit_models.h"
#include "segtune/export/emit_standard.h"
#include "segtune/models/deeplabv3.h"
#include "segtune/models/fcn.h"
#include "segtune/models/layers.h"
#include "segtune/models/lraspp.h"
#include "segtune/models/mobilenet_v3.h"
#include "segtune/models/resnet.h"

namespace segtune {

const std::map<std::type_index, EmitFn>& BuiltinOnnxEmitters() {
  static const std::map<std::type_index, EmitFn> table = {
      // Standard torch::nn modules.
      {typeid(torch::nn::Conv2dImpl), EmitConv2d},
      {typeid(torch::nn::BatchNorm2dImpl), EmitBatchNorm2d},
      {typeid(FoldableBatchNorm2dImpl), EmitBatchNorm2d},
      {typeid(torch::nn::ReLUImpl), EmitReLU},
      {typeid(torch::nn::SigmoidImpl), EmitSigmoid},
      {typeid(torch::nn::AdaptiveAvgPool2dImpl), EmitAdaptiveAvgPool2d},
      {typeid(torch::nn::MaxPool2dImpl), EmitMaxPool2d},
      {typeid(torch::nn::DropoutImpl), EmitPassThrough},
      {typeid(torch::nn::Dropout2dImpl), EmitPassThrough},
      {typeid(torch::nn::IdentityImpl), EmitPassThrough},
      // segtune blocks (models/).
      {typeid(Conv2dNormActivationImpl), EmitConv2dNormActivation},
      {typeid(SqueezeExcitationImpl), EmitSqueezeExcitation},
      {typeid(InvertedResidualImpl), EmitInvertedResidual},
      {typeid(BottleneckImpl), EmitBottleneck},
      {typeid(ASPPConvImpl), EmitASPPConv},
      {typeid(ASPPPoolingImpl), EmitASPPPooling},
      {typeid(ASPPImpl), EmitASPP},
      {typeid(DeepLabHeadImpl), EmitDeepLabHead},
      {typeid(FCNHeadImpl), EmitFCNHead},
      // Whole models: normalized image -> logits at the image size.
      {typeid(LRASPPImpl), EmitLRASPP},
      {typeid(SimpleSegmentationModelImpl), EmitSimpleSegmentationModel},
  };
  return table;
}

}  // namespace segtune
