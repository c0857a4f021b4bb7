// `segtune infer` with a detection export directory (export/detection_bundle.h): Faster R-CNN /
// Mask R-CNN over TFRecords or images (inputs as infer_inputs.h), writing for every image the input
// Example plus the infer_detections keys (detection_objects.h), and optionally COCO results JSON
// (--coco-results: boxes, and RLE masks for Mask R-CNN) and overlays (--overlays-dir: boxes, class
// names, scores, coloured masks). RunInference (inference.h) comes here for a detection bundle.
//
// Each image goes through the model at its own size (the model resizes inside, as torchvision);
// up to batch_size consecutive images of the same size share one forward pass (padding would change
// a smaller image's detections). Images are decoded on --threads workers.
// A record or image that cannot be parsed or decoded is skipped and listed in the summary (unless
// request.skip_unreadable is false).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "example.pb.h"
#include "segtune/export/detection_bundle.h"
#include "segtune/inference/detection_objects.h"
#include "segtune/inference/semantic_inference.h"

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

// `model` is a detection export directory or a file inside one (its .onnx). Throws like RunInference.
InferenceSummary RunDetectionInference(const InferenceOptions& request, const DetectionSink& sink = {});
InferenceSummary RunDetectionInference(DetectionBundle& bundle, const InferenceOptions& request,
                                       const DetectionSink& sink = {});

}  // namespace segtune
