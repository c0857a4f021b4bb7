#include "segtune/inference/semantic_inference.h"

#include <torch/torch.h>

#include <algorithm>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/inference/class_argmax.h"
#include "segtune/inference/detection_objects.h"
#include "segtune/inference/inference_pipeline.h"
#include "segtune/inference/semantic_overlay.h"
#include "segtune/inference/semantic_regions.h"

namespace segtune {

SemanticInferenceModel LoadSemanticInferenceModel(const std::filesystem::path& path) {
  SemanticInferenceModel model;
  if (std::filesystem::is_directory(path)) {
    model.bundle = LoadSemanticBundle(path);
  } else if (path.extension() == ".onnx") {
    const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    if (std::filesystem::exists(dir / "model.json")) {
      Info("using the native bundle in " + dir.string() + " (same weights as " + path.filename().string() + ")");
      model.bundle = LoadSemanticBundle(dir);
    } else {
      model.onnx = std::make_shared<OnnxModel>(LoadOnnxModel(path));
      model.class_names = model.onnx->class_names;
      model.num_classes = model.onnx->num_classes;
      Info("running " + path.string() + " with OpenCV DNN" +
           (model.onnx->height > 0 ? " at its declared " + std::to_string(model.onnx->height) + "x" +
                                         std::to_string(model.onnx->width) + " (images are resized)"
                                   : ""));
      return model;
    }
  } else if (!std::filesystem::exists(path)) {
    throw IoError(path.string() + ": no such export directory or .onnx file");
  } else {
    throw UsageError(path.string() + ": expected an export directory written by `segtune export` or its .onnx file");
  }
  model.class_names = model.bundle.metadata.class_names;
  model.num_classes = model.bundle.metadata.num_classes;
  return model;
}

namespace {

// One image's class map and the softmax probability of its class, at the image's size.
struct ClassMaps {
  cv::Mat class_map;    // CV_8UC1.
  cv::Mat probability;  // CV_32FC1.
};

// BGR uint8 images -> the model's input: float [N, 3, H, W] in channels-last memory (what the
// channels-last model wants), RGB, (x / 255 - mean) / std — the same float operations as the
// reference preprocessing, fused in one pass over the decoded pixels. images[begin, end) share a size.
torch::Tensor NormalizedBatch(const std::vector<PipelineImage*>& images, size_t begin, size_t end,
                              const SemanticBundleMetadata& meta) {
  const int64_t n = static_cast<int64_t>(end - begin);
  const int h = images[begin]->bgr.rows, w = images[begin]->bgr.cols;
  torch::Tensor x = torch::empty({n, 3, h, w}, torch::TensorOptions().dtype(torch::kFloat).memory_format(
                                                   torch::MemoryFormat::ChannelsLast));
  float* out = x.data_ptr<float>();  // NHWC order in memory.
  const float mean[3] = {meta.mean[0], meta.mean[1], meta.mean[2]};
  const float stdev[3] = {meta.std[0], meta.std[1], meta.std[2]};
  at::parallel_for(0, n * h, 16, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const uint8_t* src = images[begin + static_cast<size_t>(row / h)]->bgr.ptr<uint8_t>(static_cast<int>(row % h));
      float* dst = out + row * w * 3;
      for (int x0 = 0; x0 < w; ++x0) {
        for (int c = 0; c < 3; ++c) {
          dst[3 * x0 + c] = (static_cast<float>(src[3 * x0 + 2 - c]) / 255.0f - mean[c]) / stdev[c];
        }
      }
    }
  });
  return x;
}

// Class maps and probabilities at each image's size from the head's logits [N, C, h, w] (CPU, any
// memory format): the models' final bilinear resize fused into the argmax (class_argmax.h).
void ArgmaxInto(const torch::Tensor& logits, ClassMaps* maps, int h, int w) {
  for (int64_t k = 0; k < logits.size(0); ++k) {
    ClassMaps& m = maps[k];
    m.class_map.create(h, w, CV_8UC1);
    m.probability.create(h, w, CV_32FC1);
    const torch::Tensor image_logits = logits[k];
    const LogitsView view{image_logits.data_ptr<float>(), image_logits.size(0),   image_logits.size(1),
                          image_logits.size(2),           image_logits.stride(0), image_logits.stride(1),
                          image_logits.stride(2)};
    at::parallel_for(0, h, 16, [&](int64_t begin, int64_t end) {
      ResizedClassArgmax(view, h, w, begin, end, m.class_map.data, m.probability.ptr<float>());
    });
  }
}

// The regions as detections (boxes from pixel edges), so the record gets the same box keys as a
// detection model's (AddDetectionKeys).
std::vector<DetectedObject> RegionBoxes(const std::vector<PredictedRegion>& regions) {
  std::vector<DetectedObject> boxes;
  for (const auto& r : regions) {
    DetectedObject o;
    o.x1 = static_cast<float>(r.x);
    o.y1 = static_cast<float>(r.y);
    o.x2 = static_cast<float>(r.x + r.width);
    o.y2 = static_cast<float>(r.y + r.height);
    o.score = r.score;
    o.label = r.label;
    boxes.push_back(std::move(o));
  }
  return boxes;
}

// One COCO result per region (image_id is added by the pipeline); integer pixel boxes.
nlohmann::json CocoRegionResults(const std::vector<PredictedRegion>& regions, int height, int width) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : regions) {
    results.push_back({{"category_id", r.label},
                       {"bbox", {r.x, r.y, r.width, r.height}},
                       {"score", r.score},
                       {"segmentation", {{"size", {height, width}}, {"counts", r.rle}}}});
  }
  return results;
}

// The semantic part of a worker's batch: the class map of each image (LibTorch per run of same-size
// images, or OpenCV DNN per image), then its regions, class-index PNG, overlay and keys.
class SemanticTask : public InferenceTask {
 public:
  SemanticTask(SemanticInferenceModel& model, const torch::Device& device, const InferenceOptions& options,
               const SemanticSink& sink)
      : InferenceTask({"normalize", "forward", "argmax", "regions", "png", "overlay"}, options),
        model_(model), device_(device), sink_(sink) {}
  bool single_worker() const override { return model_.onnx != nullptr; }

  void Predict(const std::vector<PipelineImage*>& images, StageClock& clock) const override {
    c10::InferenceMode inference_mode;
    std::vector<ClassMaps> maps(images.size());
    if (model_.onnx) {
      StageClock::Scope timed(clock, "forward");  // OpenCV DNN: forward and argmax per image.
      for (size_t k = 0; k < images.size(); ++k) {
        PredictOnnx(*model_.onnx, images[k]->bgr, &maps[k].class_map, &maps[k].probability);
      }
    } else {
      for (const auto& [begin, end] : SameSizeRuns(images)) {
        const size_t step = OneImageAtATime(*images[begin]) ? 1 : end - begin;
        for (size_t k = begin; k < end; k += step) PredictRun(images, k, std::min(k + step, end), &maps[k], clock);
      }
    }
    for (size_t k = 0; k < images.size(); ++k) PostProcess(images[k], std::move(maps[k]), clock);
  }

 private:
  // On the CPU, images of 256x256 pixels or more go through the model one at a time: their activations
  // then stay in cache. Measured with LR-ASPP at 512x512 on one thread (docs/models.md): 29 ms per image
  // one at a time against 46 ms in batches of 4 (oneDNN engine), 46 against 68 ms (LibTorch). Smaller
  // images keep the batch, which amortizes the per-operator overhead.
  bool OneImageAtATime(const PipelineImage& image) const {
    return device_.is_cpu() && static_cast<int64_t>(image.bgr.rows) * image.bgr.cols >= 256 * 256;
  }

  // images[begin, end) (one size) through the LibTorch model in one pass.
  void PredictRun(const std::vector<PipelineImage*>& images, size_t begin, size_t end, ClassMaps* maps,
                  StageClock& clock) const {
    torch::Tensor x;
    {
      StageClock::Scope timed(clock, "normalize");
      x = NormalizedBatch(images, begin, end, model_.bundle.metadata).to(device_);
    }
    torch::Tensor logits;
    {
      StageClock::Scope timed(clock, "forward");
      logits = HeadLogits(*model_.bundle.model, x).to(torch::kCPU);  // Small: 1/8 or 1/16 of the image's size.
    }
    StageClock::Scope timed(clock, "argmax");
    ArgmaxInto(logits, maps, images[begin]->bgr.rows, images[begin]->bgr.cols);
  }

  // Everything after the model that does not depend on the other images.
  void PostProcess(PipelineImage* image, ClassMaps maps, StageClock& clock) const {
    const cv::Mat& map = maps.class_map;
    std::vector<PredictedRegion> regions;
    {
      StageClock::Scope timed(clock, "regions");
      regions = FindPredictedRegions(map, maps.probability, static_cast<int>(model_.num_classes), 1,
                                     !options().coco_results.empty());
    }
    std::string png;
    {
      StageClock::Scope timed(clock, "png");  // Encoded once: the mask file and the record share it.
      png = EncodeGrayPng(map.data, map.rows, map.cols);
    }
    if (!options().overlays_dir.empty()) {
      StageClock::Scope timed(clock, "overlay");
      image->overlay_jpeg = EncodeOverlayJpeg(RenderOverlay(image->bgr, map, model_.class_names));
    }
    StageClock::Scope timed(clock, "record");
    if (!options().masks_dir.empty()) image->mask_png = png;
    tensorflow::Example& e = image->example;
    SetBytes(&e, "image/segmentation/class/predicted", std::move(png));
    SetBytes(&e, "image/segmentation/class/predicted/format", "png");
    SetFloatList(&e, "image/segmentation/class/fraction", ClassFractions(map, static_cast<int>(model_.num_classes)));
    AddDetectionKeys(&e, RegionBoxes(regions), map.rows, map.cols, /*with_masks=*/false);
    if (!options().coco_results.empty()) image->coco_results = CocoRegionResults(regions, map.rows, map.cols);
    image->detections = static_cast<int64_t>(regions.size());
    if (sink_) {
      image->deliver = [sink = &sink_, maps = std::move(maps)](const PipelineImage& im) {
        (*sink)({im.item.source, im.name, &im.example, im.bgr, maps.class_map, maps.probability});
      };
    }
  }

  SemanticInferenceModel& model_;
  torch::Device device_;
  const SemanticSink& sink_;
};

}  // namespace

InferenceSummary RunSemanticInference(const InferenceOptions& options, const SemanticSink& sink) {
  CheckInferenceOutputs(options);
  SemanticInferenceModel model = LoadSemanticInferenceModel(options.model);
  return RunSemanticInference(model, options, sink);
}

InferenceSummary RunSemanticInference(SemanticInferenceModel& model, const InferenceOptions& options,
                                      const SemanticSink& sink) {
  torch::NoGradGuard no_grad;
  const torch::Device device(options.device);
  if (model.bundle.model) {
    // Folded BN, channels-last on CPU, no grad, the engine's convolution kernels.
    PrepareOptions prepare;
    prepare.engine = ParseInferenceEngine(options.engine, "--engine");
    Debug(DescribePreparation(PrepareForInference(*model.bundle.model, device, prepare), /*verbose=*/true));
  } else if (!device.is_cpu()) {
    throw UsageError("--device " + options.device + ": a lone .onnx file runs on the CPU (OpenCV DNN)");
  }
  InferenceSummary summary = RunInferencePipeline(SemanticTask(model, device, options, sink));
  summary.class_names = model.class_names;
  summary.num_classes = model.num_classes;
  return summary;
}

}  // namespace segtune
