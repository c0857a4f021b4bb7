// `segtune infer` with a detection export directory (export/detection_bundle.h): Faster R-CNN /
// Mask R-CNN through the inference pipeline (inference_pipeline.h) with the detection task below,
// writing for every image the input Example plus the infer_detections keys (detection_objects.h), and
// optionally COCO results JSON (--coco-results: boxes, and RLE masks for Mask R-CNN), overlays
// (--overlays-dir: boxes, class names, scores, coloured masks) and instance-index PNGs (--masks-dir,
// Mask R-CNN only: instance_masks.h). RunInference (inference.h) comes here for a detection bundle.
//
// The task's part of a worker's batch: each image goes through the model at its own size (the model
// resizes inside, as torchvision); consecutive images of the same size share one forward pass
// (padding would change a smaller image's detections); then objects, masks, overlay, COCO results.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "example.pb.h"
#include "segtune/export/detection_bundle.h"
#include "segtune/inference/detection_objects.h"
#include "segtune/inference/inference.h"

namespace segtune {

// One image's result, as handed to a DetectionSink.
struct DetectionImage {
  std::string source;  // "test.record: record 3" or the image path.
  std::string name;    // File-name stem used for side outputs.
  const tensorflow::Example* example = nullptr;  // The input record with the detection keys added.
  int height = 0, width = 0;
  const std::vector<DetectedObject>* objects = nullptr;
};
using DetectionSink = std::function<void(const DetectionImage&)>;

// Checks the outputs (CheckInferenceOutputs), loads the bundle (`options.model` is a detection export
// directory or a file inside one, such as its .onnx) and runs it. Throws like RunInference.
InferenceSummary RunDetectionInference(const InferenceOptions& options, const DetectionSink& sink = {});
// Calls `sink` (if set) for each image in input order. Throws UsageError before reading anything when
// options.masks_dir is set for a box-only model (no masks to write).
InferenceSummary RunDetectionInference(DetectionBundle& bundle, const InferenceOptions& options,
                                       const DetectionSink& sink = {});

}  // namespace segtune
