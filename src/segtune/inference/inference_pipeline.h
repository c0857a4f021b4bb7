// The one pipeline of `segtune infer`, for every task. The calling thread reads the inputs in batches
// of --batch-size items and hands each batch to one of the workers (thread_plan.h); a worker does the
// whole batch on one core: decode, then the task's part (model, post-processing, the image's outputs:
// prediction keys, mask PNG, overlay, COCO results), then the serialized output record. The calling
// thread takes the batches back in input order (core/ordered_pool.h) and finishes them
// (output_finisher.h): unique names, the files, the records, the sink, the summary.
//
// A task (semantic class maps, detections) plugs in as an InferenceTask:
//
//   class MyTask : public InferenceTask {
//    public:
//     explicit MyTask(const InferenceOptions& options) : InferenceTask({"forward"}, options) {}
//     void Predict(const std::vector<PipelineImage*>& images, StageClock& clock) const override;
//   };
//   InferenceSummary summary = RunInferencePipeline(MyTask(options));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "example.pb.h"
#include "segtune/inference/infer_inputs.h"
#include "segtune/inference/inference.h"
#include "segtune/inference/stage_clock.h"
#include "segtune/inference/thread_plan.h"

namespace segtune {

// One input item on its way through the pipeline.
struct PipelineImage {
  InferenceItem item;
  // Set by the decode stage (decode_item.h).
  std::string problem;          // Non-empty: skipped; nothing below is set.
  tensorflow::Example example;  // The input record; the task adds its prediction keys.
  cv::Mat bgr;                  // 8-bit, 3 channels, original size.
  std::string name;             // File-name stem for side outputs; made unique in input order.

  // Set by the task's Predict, each only when its option asks for it.
  std::string mask_png;          // --masks-dir: written as <name>.png.
  std::string overlay_jpeg;      // --overlays-dir: written as <name>.jpg.
  nlohmann::json coco_results = nlohmann::json::array();  // --coco-results: entries without "image_id",
                                                          // which needs the final name (CocoImageId).
  int64_t detections = 0;        // Counted into InferenceSummary::regions.
  // The task's sink call (in input order, on the calling thread, after the files are written), for a
  // task run with a sink; it holds what the sink needs beyond this struct (class map, objects).
  std::function<void(const PipelineImage&)> deliver;

  // Set by the pipeline after Predict.
  std::string record;  // Serialized output Example (--output).
};

// The task-specific part of the pipeline.
class InferenceTask {
 public:
  // `stages`: the stages Predict times on the clock, in pipeline order. The pipeline adds "decode"
  // before them and "record", "write" after; Predict may also time under "record" (prediction keys).
  InferenceTask(std::vector<std::string> stages, const InferenceOptions& options)
      : stages_(std::move(stages)), options_(options) {}
  virtual ~InferenceTask() = default;

  const std::vector<std::string>& stages() const { return stages_; }
  const InferenceOptions& options() const { return options_; }

  // Predicts a batch of decoded images (in input order, none skipped) and sets their outputs above.
  // Called from several workers at once for different batches: must not change shared state.
  virtual void Predict(const std::vector<PipelineImage*>& images, StageClock& clock) const = 0;

  // True when the model cannot run on several threads at once (one OpenCV DNN network).
  virtual bool single_worker() const { return false; }

  // The library the model runs in, for its thread counts (thread_plan.h): OpenMP (oneDNN, the
  // LibTorch-free runtime) by default; LibTorch for the tasks that run LibTorch.
  virtual ComputeThreads compute_threads() const { return OpenMpThreads(); }

 private:
  std::vector<std::string> stages_;
  const InferenceOptions& options_;
};

// Runs `task` over task.options().inputs as described at the top and returns the summary (class_names
// and num_classes left for the task's caller). Throws UsageError for --batch-size < 1,
// IoError/FormatError for unreadable inputs as a whole or unwritable outputs, and what the task throws.
InferenceSummary RunInferencePipeline(const InferenceTask& task);

// Runs of consecutive images of the same size, as [begin, end) index ranges: what may share a forward
// pass (padding a smaller image to a batch's size would change its prediction).
std::vector<std::pair<size_t, size_t>> SameSizeRuns(const std::vector<PipelineImage*>& images);

// The --overlays-dir file of a rendered overlay (BGR): JPEG at quality 90, for every task alike.
std::string EncodeOverlayJpeg(const cv::Mat& overlay);

// The image id COCO results use for an Example: image/source_id as a number when it is all digits (and
// fits int64), else as a string; `fallback` (the image's name) when the Example has no source id.
nlohmann::json CocoImageId(const tensorflow::Example& example, const std::string& fallback);

}  // namespace segtune
