// ONNX forms of segtune's model blocks (models/*.h), registered in emitter_registry.cpp. Each
// follows the block's forward() line by line; the model-level entries end with the bilinear resize
// of the logits to the input size.
#pragma once

#include <map>
#include <string>

#include "segtune/export/onnx_emitter.h"

namespace segtune {

class BackboneImpl;

// A backbone's returned features by feature name (its return_layers), as IntermediateLayerGetter.
std::map<std::string, OnnxValue> EmitBackbone(OnnxEmitter& e, const std::string& scope, BackboneImpl& backbone,
                                              const OnnxValue& input);

#define SEGTUNE_DECLARE_EMITTER(Name) \
  OnnxValue Name(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x)

// Blocks (layers.h, mobilenet_v3.h, resnet.h).
SEGTUNE_DECLARE_EMITTER(EmitConv2dNormActivation);  // Conv (BN folded) + activation.
SEGTUNE_DECLARE_EMITTER(EmitSqueezeExcitation);     // GlobalAveragePool, fc1, ReLU, fc2, HardSigmoid, Mul.
SEGTUNE_DECLARE_EMITTER(EmitInvertedResidual);      // expand, depthwise, SE, project, residual Add.
SEGTUNE_DECLARE_EMITTER(EmitBottleneck);            // 3 convs (BN folded), downsample, Add, Relu.
// Heads (deeplabv3.h, fcn.h).
SEGTUNE_DECLARE_EMITTER(EmitASPPConv);
SEGTUNE_DECLARE_EMITTER(EmitASPPPooling);  // GlobalAveragePool, conv, Relu, Resize back to x's size.
SEGTUNE_DECLARE_EMITTER(EmitASPP);         // Branches, Concat on channels, project.
SEGTUNE_DECLARE_EMITTER(EmitDeepLabHead);
SEGTUNE_DECLARE_EMITTER(EmitFCNHead);
// Whole models (lraspp.h, semantic_model.h): x normalized -> logits at x's size. The aux head
// is training-only and not exported.
SEGTUNE_DECLARE_EMITTER(EmitLRASPP);
SEGTUNE_DECLARE_EMITTER(EmitSimpleSegmentationModel);

#undef SEGTUNE_DECLARE_EMITTER

}  // namespace segtune
