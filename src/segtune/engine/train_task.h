// What differs between training a semantic segmentation model and a detection model: the model, the
// input stream, batch -> loss, and evaluation. The shared loop (engine/trainer.cpp: run setup,
// checkpoints and resume, signals, schedule, clipping, events, metrics.csv, progress, data-parallel
// hooks) drives a TrainTask.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

#include "segtune/config/pipeline_config.h"
#include "segtune/engine/trainer.h"

namespace segtune {

class EventWriter;
class DataParallelGroup;

// One step's forward pass.
struct StepLoss {
  torch::Tensor loss;  // Scalar to minimise (weighted sum of the terms).
  // Unweighted components, logged as train/<name> and metrics.csv columns (TermNames() order).
  std::vector<double> terms;
  int images = 0;               // Images in this process's batch.
  double loss_denominator = 0;  // Data-parallel: this rank's share of the global-mean loss (see distributed.h).
};

// One evaluation pass.
struct TaskEval {
  double score = 0;       // Higher is better; decides best.safetensors.
  std::string summary;    // One line for the log ("mIoU 0.71, pixel accuracy 0.93").
  std::vector<std::string> csv_cells;  // EvalColumns() order.
  std::map<std::string, double> metrics;  // Named numbers ("mIoU", "box_AP50", ...), for TrainResult.
  std::optional<SemanticMetrics> semantic;    // Semantic tasks: the full metrics.
};

class TrainTask {
 public:
  virtual ~TrainTask() = default;

  virtual torch::nn::Module& model() = 0;
  // Checkpoint metadata besides the step and the best score: "segtune.architecture",
  // "segtune.num_classes", "segtune.pipeline_config", ...
  virtual std::map<std::string, std::string> CheckpointMetadata() const = 0;
  // Metadata key of the best evaluation score ("segtune.best_miou").
  virtual std::string BestScoreKey() const = 0;
  // Loss components (TrainStep's `terms`) and evaluation columns, for metrics.csv and events.
  virtual std::vector<std::string> TermNames() const = 0;
  virtual std::vector<std::string> EvalColumns() const = 0;

  // Training mode (with the task's frozen parts kept in eval mode).
  virtual void SetTrainMode() = 0;
  // Starts the input stream at batch `first` (ends at `end`, exclusive).
  virtual void StartInput(int64_t first, int64_t end, int workers, int prefetch) = 0;
  // Takes the next batch of the input stream (waiting for it); false when the stream has ended.
  virtual bool NextBatch() = 0;
  // The forward pass on that batch, in training mode.
  virtual void Forward(StepLoss* out) = 0;
  // After the optimizer step of `step` (image summaries etc.); events is null on non-chief ranks.
  virtual void AfterStep(int64_t step, EventWriter* events) { (void)step, (void)events; }
  virtual double data_wait_seconds() const = 0;

  virtual bool HasEval() const = 0;
  // Evaluates on eval_input_reader (eval mode, then back to training mode); writes eval/* scalars when
  // events is not null.
  virtual TaskEval Evaluate(int64_t step, EventWriter* events) = 0;
};

// What a task is built from. The task builds its model (fine-tuning from
// train_config.fine_tune_checkpoint unless options.resume), moves it to `device`, applies the
// trainable selection and reads its datasets; throws UsageError/FormatError/IoError for bad inputs.
struct TaskContext {
  const PipelineConfig& config;
  const TrainOptions& options;
  torch::Device device;
  DataParallelGroup* group = nullptr;  // Data-parallel runs only.
};

// Semantic segmentation (engine/semantic_task.cpp): cross-entropy (+ aux), mIoU evaluation.
std::unique_ptr<TrainTask> MakeSemanticTask(const TaskContext& context);
// Detection (engine/detection_trainer.cpp): torchvision's R-CNN losses, COCO AP evaluation.
std::unique_ptr<TrainTask> MakeDetectionTask(const TaskContext& context);

}  // namespace segtune
