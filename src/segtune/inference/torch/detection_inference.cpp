#include "segtune/inference/torch/detection_inference.h"

#include <torch/torch.h>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/export/conv_kernels.h"
#include "segtune/export/prepare_detection.h"
#include "segtune/inference/detection_overlay.h"
#include "segtune/inference/inference_pipeline.h"
#include "segtune/inference/instance_masks.h"

namespace segtune {
namespace {

// BGR uint8 -> RGB float [3, H, W] in [0, 1] (the model normalizes and resizes inside).
torch::Tensor ToModelInput(const cv::Mat& bgr) {
  torch::Tensor hwc = torch::from_blob(bgr.data, {bgr.rows, bgr.cols, 3}, torch::kUInt8);
  return hwc.flip(2).permute({2, 0, 1}).to(torch::kFloat).div_(255.0f).contiguous();
}

// Model detections (CPU) -> objects with 0/1 masks (probability > 0.5, as torchvision's examples).
std::vector<DetectedObject> ToObjects(const detection::Detections& d) {
  const torch::Tensor boxes = d.boxes.to(torch::kCPU).contiguous();
  const torch::Tensor scores = d.scores.to(torch::kCPU).contiguous();
  const torch::Tensor labels = d.labels.to(torch::kCPU).contiguous();
  torch::Tensor masks;
  if (d.masks.defined()) masks = d.masks.to(torch::kCPU).gt(0.5).to(torch::kUInt8).contiguous();
  std::vector<DetectedObject> objects(static_cast<size_t>(boxes.size(0)));
  const auto b = boxes.accessor<float, 2>();
  for (int64_t i = 0; i < boxes.size(0); ++i) {
    DetectedObject& o = objects[static_cast<size_t>(i)];
    o.x1 = b[i][0];
    o.y1 = b[i][1];
    o.x2 = b[i][2];
    o.y2 = b[i][3];
    o.score = scores[i].item<float>();
    o.label = labels[i].item<int64_t>();
    if (masks.defined()) {
      const int h = static_cast<int>(masks.size(2)), w = static_cast<int>(masks.size(3));
      o.mask = cv::Mat(h, w, CV_8UC1, masks[i].data_ptr<uint8_t>()).clone();
    }
  }
  return objects;
}

// The detection part of a worker's batch: one forward pass per run of same-size images, then each
// image's objects, instance-index PNG, overlay, COCO results and infer_detections keys.
class DetectionTask : public InferenceTask {
 public:
  DetectionTask(DetectionBundle& bundle, const torch::Device& device, const InferenceOptions& options,
                const DetectionSink& sink)
      : InferenceTask({"normalize", "forward", "objects", "masks", "overlay", "coco"}, options),
        bundle_(bundle), device_(device), sink_(sink) {}
  ComputeThreads compute_threads() const override { return {at::get_num_threads, at::set_num_threads}; }

  void Predict(const std::vector<PipelineImage*>& images, StageClock& clock) const override {
    c10::InferenceMode inference_mode;
    std::vector<std::vector<DetectedObject>> objects(images.size());
    for (const auto& [begin, end] : SameSizeRuns(images)) PredictRun(images, begin, end, &objects[begin], clock);
    for (size_t k = 0; k < images.size(); ++k) PostProcess(images[k], std::move(objects[k]), clock);
  }

 private:
  // images[begin, end) (one size) through the model in one pass.
  void PredictRun(const std::vector<PipelineImage*>& images, size_t begin, size_t end,
                  std::vector<DetectedObject>* objects, StageClock& clock) const {
    std::vector<torch::Tensor> inputs;
    {
      StageClock::Scope timed(clock, "normalize");
      for (size_t k = begin; k < end; ++k) inputs.push_back(ToModelInput(images[k]->bgr).to(device_));
    }
    detection::DetectionOutput out;
    {
      StageClock::Scope timed(clock, "forward");
      out = bundle_.model->forward(inputs);
    }
    StageClock::Scope timed(clock, "objects");
    for (size_t k = 0; k < inputs.size(); ++k) objects[k] = ToObjects(out.detections[k]);
  }

  void PostProcess(PipelineImage* image, std::vector<DetectedObject> objects, StageClock& clock) const {
    const int h = image->bgr.rows, w = image->bgr.cols;
    if (!options().masks_dir.empty()) {
      StageClock::Scope timed(clock, "masks");
      image->mask_png = EncodeInstanceIndexPng(objects, h, w);
    }
    if (!options().overlays_dir.empty()) {
      StageClock::Scope timed(clock, "overlay");
      image->overlay_jpeg =
          EncodeOverlayJpeg(RenderDetectionOverlay(image->bgr, objects, bundle_.metadata.common.class_names));
    }
    if (!options().coco_results.empty()) {
      StageClock::Scope timed(clock, "coco");
      image->coco_results = CocoDetectionResults(objects);
    }
    StageClock::Scope timed(clock, "record");
    AddDetectionKeys(&image->example, objects, h, w, bundle_.metadata.has_masks);
    image->detections = static_cast<int64_t>(objects.size());
    if (sink_) {
      image->deliver = [sink = &sink_, objects = std::move(objects)](const PipelineImage& im) {
        (*sink)({im.item.source, im.name, &im.example, im.bgr.rows, im.bgr.cols, &objects});
      };
    }
  }

  DetectionBundle& bundle_;
  torch::Device device_;
  const DetectionSink& sink_;
};

// A box-only model has no masks for --masks-dir; a run without the files the user asked for is no result.
void CheckMasksDir(const DetectionBundleMetadata& metadata, const InferenceOptions& options) {
  if (options.masks_dir.empty() || metadata.has_masks) return;
  throw UsageError("infer: --masks-dir writes instance masks, but " + options.model.string() + " is a " +
                   metadata.common.architecture + " model, which predicts boxes only; drop --masks-dir (the boxes "
                   "are in --output and --coco-results)");
}

std::filesystem::path BundleDirOf(const std::filesystem::path& model) {
  if (std::filesystem::is_directory(model)) return model;
  return model.parent_path().empty() ? std::filesystem::path(".") : model.parent_path();
}

}  // namespace

InferenceSummary RunDetectionInference(const InferenceOptions& options, const DetectionSink& sink) {
  const std::filesystem::path dir = BundleDirOf(options.model);
  // From model.json alone, before the weights load.
  CheckMasksDir(DetectionBundleMetadataFromJson(ReadFile(dir / "model.json"), dir / "model.json"), options);
  CheckInferenceOutputs(options);
  DetectionBundle bundle = LoadDetectionBundle(dir);
  return RunDetectionInference(bundle, options, sink);
}

InferenceSummary RunDetectionInference(DetectionBundle& bundle, const InferenceOptions& options,
                                       const DetectionSink& sink) {
  CheckMasksDir(bundle.metadata, options);
  torch::NoGradGuard no_grad;
  const torch::Device device(options.device);
  // Folded BN, channels-last weights on CPU, no grad, the engine's kernels in the backbone.
  PrepareOptions prepare;
  prepare.engine = ParseInferenceEngine(options.engine, "--engine");
  Debug(DescribePreparation(PrepareDetectionForInference(*bundle.model, device, prepare), /*verbose=*/true));
  InferenceSummary summary = RunInferencePipeline(DetectionTask(bundle, device, options, sink));
  summary.class_names = bundle.metadata.common.class_names;
  summary.num_classes = bundle.metadata.common.num_classes;
  return summary;
}

}  // namespace segtune
