#include "segtune/inference/torch/semantic_inference.h"

#include <torch/torch.h>

#include <algorithm>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/inference/inference_pipeline.h"
#include "segtune/inference/semantic_task.h"

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

// BGR uint8 images -> the model's input: float [N, 3, H, W] in channels-last memory (what the
// channels-last model wants), normalized (NormalizeImages). images[begin, end) share a size.
torch::Tensor NormalizedBatch(const std::vector<PipelineImage*>& images, size_t begin, size_t end,
                              const SemanticBundleMetadata& meta) {
  const int64_t n = static_cast<int64_t>(end - begin);
  const int h = images[begin]->bgr.rows, w = images[begin]->bgr.cols;
  torch::Tensor x = torch::empty({n, 3, h, w}, torch::TensorOptions().dtype(torch::kFloat).memory_format(
                                                   torch::MemoryFormat::ChannelsLast));
  NormalizeImages(images, begin, end, meta.mean.data(), meta.std.data(), x.data_ptr<float>());
  return x;
}

// Class maps and probabilities at each image's size from the head's logits [N, C, h, w] (CPU, any
// memory format): the models' final bilinear resize fused into the argmax (class_argmax.h).
void ArgmaxInto(const torch::Tensor& logits, ClassMaps* maps, int h, int w) {
  for (int64_t k = 0; k < logits.size(0); ++k) {
    const torch::Tensor image_logits = logits[k];
    maps[k] = ResizedClassMaps({image_logits.data_ptr<float>(), image_logits.size(0), image_logits.size(1),
                                image_logits.size(2), image_logits.stride(0), image_logits.stride(1),
                                image_logits.stride(2)},
                               h, w);
  }
}

// The class map of each image: LibTorch per run of same-size images, or OpenCV DNN per image.
class TorchSemanticTask : public SemanticTask {
 public:
  TorchSemanticTask(SemanticInferenceModel& model, const torch::Device& device, const InferenceOptions& options,
                    const SemanticSink& sink)
      : SemanticTask(model.class_names, model.num_classes, options, sink), model_(model), device_(device) {}
  bool single_worker() const override { return model_.onnx != nullptr; }
  ComputeThreads compute_threads() const override { return {at::get_num_threads, at::set_num_threads}; }

 protected:
  void PredictClassMaps(const std::vector<PipelineImage*>& images, std::vector<ClassMaps>& maps,
                        StageClock& clock) const override {
    c10::InferenceMode inference_mode;
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

  SemanticInferenceModel& model_;
  torch::Device device_;
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
  InferenceSummary summary = RunInferencePipeline(TorchSemanticTask(model, device, options, sink));
  summary.class_names = model.class_names;
  summary.num_classes = model.num_classes;
  return summary;
}

}  // namespace segtune
