// `segtune train`: fine-tunes a segmentation or detection model as a pipeline config describes
// (detection when IsDetectionConfig, config/detection_config.h).
//
// Writes into train_dir: ckpt-NNNNNN.safetensors (every checkpoint_every_n_steps and at the end; the
// newest keep_checkpoint_max kept), best.safetensors (best validation mIoU, or box AP for detection),
// pipeline.config (copy), metrics.csv, and TensorBoard event files (train/ scalars: loss, each loss
// term of a detection model, learning rate, img/s; segmentation image overlays; eval/ mIoU or COCO AP).
// SIGINT/SIGTERM finish the current step, save a checkpoint and return normally (interrupted = true).
// A non-finite loss stops the run with an Error naming the step; earlier checkpoints are kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "segtune/engine/distributed_env.h"
#include "segtune/evaluation/semantic_metrics.h"

namespace segtune {

struct TrainOptions {
  std::filesystem::path pipeline_config;
  std::filesystem::path train_dir;
  bool resume = false;           // Continue from the newest ckpt-*.safetensors in train_dir.
  // Without resume, train_dir must be new or empty; overwrite lets a new run replace a previous
  // run's output there (its checkpoints and metrics.csv are removed first). A directory that is not
  // a previous run's (no metrics.csv) is never used. See core/output_guard.h.
  bool overwrite = false;
  int64_t num_steps = 0;         // > 0 overrides train_config.num_steps.
  int threads = 1;               // Compute threads (the caller sets at::set_num_threads) and decode workers.
  std::string device = "cpu";
  int64_t stop_after_step = 0;   // > 0: behave as if interrupted after this step (tests, time-boxed runs).
  // Data-parallel (world_size > 1): this process is one rank; batch_size is the global batch, each rank
  // trains on its slice, gradients are averaged, only rank 0 writes; see engine/distributed.h.
  DistributedEnv distributed;
  int distributed_timeout_seconds = 300;  // Longest wait on a peer (rendezvous, any collective).
};

struct TrainResult {
  int64_t first_step = 0;             // Step the run started from (> 0 when resumed).
  int64_t last_step = 0;              // Steps completed in total.
  std::vector<double> losses;         // Loss of each step run by this call.
  std::vector<std::vector<double>> loss_terms;  // Per step: the task's loss components (detection), else empty.
  bool interrupted = false;
  int stop_signal = 0;                // SIGINT/SIGTERM that stopped the run (0: finished, or stop_after_step).
  bool evaluated = false;
  SemanticMetrics last_eval;            // Valid when evaluated (semantic segmentation).
  std::map<std::string, double> eval_metrics;  // Last evaluation by name: "mIoU", ... or "box_AP", "box_AP50", ...
  std::filesystem::path last_checkpoint;
  double data_wait_seconds = 0;       // Time the loop waited for input batches.
  double compute_seconds = 0;         // Forward + backward + optimizer step.
};

// Runs training. Throws UsageError/FormatError/IoError for bad configs and inputs (before any step),
// Error for a non-finite loss. Data-parallel detection training is not supported (UsageError).
TrainResult Train(const TrainOptions& options);

}  // namespace segtune
