// ONNX forms of standard torch::nn modules (registered in emitter_registry.cpp). Each one emits the
// module applied to x, records a layer-table row, and returns the output value.
#pragma once

#include "segtune/export/onnx_emitter.h"

namespace segtune {

OnnxValue EmitConv2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
OnnxValue EmitBatchNorm2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
OnnxValue EmitReLU(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
OnnxValue EmitSigmoid(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
// HardSwish / HardSigmoid(alpha 1/6, beta 1/2): torch.nn.Hardswish / Hardsigmoid semantics. libtorch
// 1.13 has no module for them, so the models' own activation modules map to these.
OnnxValue EmitHardswishOp(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
OnnxValue EmitHardsigmoidOp(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
// AdaptiveAvgPool2d(1) -> GlobalAveragePool (other output sizes throw Error).
OnnxValue EmitAdaptiveAvgPool2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
OnnxValue EmitMaxPool2d(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);
// Dropout / Identity: no node at all.
OnnxValue EmitPassThrough(OnnxEmitter& e, const std::string& scope, torch::nn::Module& m, const OnnxValue& x);

}  // namespace segtune
