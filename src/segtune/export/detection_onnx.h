// ONNX export of the convolutional part of a Faster / Mask R-CNN: backbone + FPN + RPN head, the
// bulk of the computation. What stays in native code (segtune infer) and is NOT in the graph: the
// transform (normalize, resize, pad), anchors, proposal decoding and NMS, RoIAlign, the box and mask
// heads, per-class NMS and the mask paste (docs/detection.md says why and how to run the rest).
//
// Graph "detector_features.onnx":
//   input  "images"               float32 [N, 3, H, W]: the transform's output (normalized with the
//                                 model's mean/std, resized, zero-padded; H and W multiples of 32)
//   output "features.<level>"     float32 [N, 256, h, w] per FPN level ("0", "1", ..., "pool")
//          "objectness.<level>"   float32 [N, A, h, w]   RPN objectness logits
//          "bbox_deltas.<level>"  float32 [N, 4A, h, w]  RPN box deltas (dx, dy, dw, dh per anchor)
// N, H and W are dynamic. BatchNorm (torchvision's FrozenBatchNorm2d) is folded into the convolutions.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <utility>
#include <vector>

#include "segtune/export/onnx_emitter.h"
#include "segtune/models/detection/generalized_rcnn.h"

namespace segtune {

inline constexpr const char* kDetectionFeaturesOnnx = "detector_features.onnx";

struct DetectionOnnxExport {
  onnx::ModelProto model;
  std::vector<std::string> levels;  // FPN level names, in output order.
  std::vector<LayerRecord> layers;  // Every module emitted (the `segtune inspect` table).
};

// Emits the graph above for `model` (parameters not modified), traced at trace_size (multiples of
// 32). `metadata` is added to the metadata_props. Throws Error naming a module without ONNX form.
DetectionOnnxExport ExportDetectionFeaturesOnnx(detection::GeneralizedRCNNImpl& model,
                                                const std::vector<std::pair<std::string, std::string>>& metadata,
                                                std::pair<int64_t, int64_t> trace_size = {320, 320});

}  // namespace segtune
