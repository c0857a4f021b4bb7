// The training loop shared by every task (engine/train_task.h): run setup, checkpoints and resume,
// SIGINT/SIGTERM, learning-rate schedule, gradient clipping, non-finite loss stop, TensorBoard scalars,
// metrics.csv, progress, periodic evaluation with the best checkpoint, and the data-parallel hooks.
#include "segtune/engine/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/progress.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/config/config_validation.h"
#include "segtune/config/detection_config.h"
#include "segtune/engine/distributed.h"
#include "segtune/formats/events.h"
#include "segtune/engine/optim.h"
#include "segtune/config/pipeline_config.h"
#include "segtune/engine/schedule.h"
#include "segtune/engine/train_task.h"

namespace segtune {

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void OnStopSignal(int sig) { g_stop_signal = sig; }

// Installs SIGINT/SIGTERM handlers for the life of a run, restoring the previous ones after.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    old_int_ = std::signal(SIGINT, OnStopSignal);
    old_term_ = std::signal(SIGTERM, OnStopSignal);
  }
  ~StopSignals() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

uint64_t StepSeed(uint64_t seed, int64_t step) {
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(step) + 1;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return (x ^ (x >> 31)) & 0x7fffffffffffffffull;
}

struct Run {
  PipelineConfig config;
  std::unique_ptr<TrainTask> task;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<EventWriter> train_events, eval_events;
  std::vector<std::string> csv_rows;
  double best_score = -1;
  std::unique_ptr<DataParallelGroup> group;  // Data-parallel runs only.
  bool chief = true;                         // Writes checkpoints, events, metrics.csv, progress.
  int segment = 1;                           // metrics.csv's segment: +1 at each --resume.
};

// Before a single-process step's backward: the gradients are dropped rather than zeroed, so backward
// stores each parameter's gradient instead of adding it to zeros (the same values, one pass over the
// parameters less). The distributed reducer expects every gradient defined, so there they are zeroed.
void ClearGradients(torch::optim::Optimizer& optimizer, bool distributed) {
  if (distributed) return optimizer.zero_grad();
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) p.mutable_grad().reset();
  }
}

std::string Join(const std::vector<std::string>& cells) {
  std::string s;
  for (const auto& c : cells) s += "," + c;
  return s;
}

// metrics.csv's columns. data_wait_share (the part of the logging window spent waiting for input)
// and segment (1, then +1 at each --resume) come last, so readers of older files by position still
// find the others where they were.
std::string MetricsCsvHeader(const Run& run) {
  return "step,loss" + Join(run.task->TermNames()) + ",learning_rate,images_per_second" +
         Join(run.task->EvalColumns()) + ",data_wait_share,segment";
}

void WriteMetricsCsv(const Run& run, const std::filesystem::path& dir) {
  std::string text = MetricsCsvHeader(run) + "\n";
  for (const auto& row : run.csv_rows) text += row + "\n";
  WriteFileAtomic(dir / "metrics.csv", text);
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// Rows of an existing metrics.csv up to (and including) `step`, so a resumed run continues the file;
// cells are moved to this run's columns by name (a file of an older segtune has fewer columns: the
// missing cells stay empty; rows without a segment were segment 1). Sets *last_segment to the
// highest segment kept.
std::vector<std::string> ReadMetricsCsv(const std::filesystem::path& path, int64_t step, const Run& run,
                                        int* last_segment) {
  std::vector<std::string> rows;
  *last_segment = 0;
  if (!std::filesystem::exists(path)) return rows;
  std::istringstream in(ReadFile(path));
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> old_columns = SplitCsvLine(line);
  const std::vector<std::string> columns = SplitCsvLine(MetricsCsvHeader(run));
  while (std::getline(in, line)) {
    if (line.empty() || std::stoll(line.substr(0, line.find(','))) > step) continue;
    const std::vector<std::string> cells = SplitCsvLine(line);
    std::string row;
    for (size_t c = 0; c < columns.size(); ++c) {
      const auto at = std::find(old_columns.begin(), old_columns.end(), columns[c]);
      const size_t i = static_cast<size_t>(at - old_columns.begin());
      std::string cell = at != old_columns.end() && i < cells.size() ? cells[i] : "";
      if (columns[c] == "segment" && cell.empty()) cell = "1";
      if (columns[c] == "segment") *last_segment = std::max(*last_segment, std::atoi(cell.c_str()));
      row += (c == 0 ? "" : ",") + cell;
    }
    rows.push_back(row);
  }
  return rows;
}

std::map<std::string, std::string> CheckpointMetadata(const Run& run) {
  auto metadata = run.task->CheckpointMetadata();
  metadata[run.task->BestScoreKey()] = std::to_string(run.best_score);
  return metadata;
}

std::filesystem::path SaveCheckpoint(Run& run, const std::filesystem::path& dir, int64_t step) {
  CheckpointInfo info;
  info.step = step;
  info.metadata = CheckpointMetadata(run);
  const std::filesystem::path path = dir / CheckpointFileName(step);
  if (!run.chief) return path;
  SaveTrainingCheckpoint(path, run.task->model(), run.optimizer.get(), info);
  PruneStepCheckpoints(dir, static_cast<int>(run.config.proto.train_config().keep_checkpoint_max()));
  return path;
}

void SetUp(Run& run, const TrainOptions& options) {
  run.config = LoadPipelineConfig(options.pipeline_config);
  for (const auto& w : run.config.warnings) Warn(w.ToString(run.config.path));
  // The same validation as `segtune config check`, before any model or dataset is built.
  RequireValidForTraining(run.config);
  const bool detection = IsDetectionConfig(run.config);
  if (detection && run.group) {
    throw UsageError(options.pipeline_config.string() +
                     ": data-parallel training of detection models is not supported; train with one process "
                     "(drop --nproc-per-node / the torchrun variables)");
  }
  torch::manual_seed(run.config.proto.train_config().seed());
  const TaskContext context{run.config, options, torch::Device(options.device), run.group.get()};
  run.task = detection ? MakeDetectionTask(context) : MakeSemanticTask(context);
  run.optimizer = BuildOptimizer(run.task->model(), run.config.proto.train_config());
}

// Joins the group named by options.distributed (see distributed.h); ranks other than 0 become quiet
// (warnings and errors only), so progress and logs come from rank 0 alone.
void JoinDataParallel(Run& run, const TrainOptions& options) {
  run.group = std::make_unique<DataParallelGroup>(options.distributed,
                                                  std::chrono::seconds(options.distributed_timeout_seconds));
  run.chief = run.group->is_chief();
  if (!run.chief) SetVerbosity(Verbosity::kQuiet);
}

// Every rank starts at rank 0's step from rank 0's weights. The config's batch_size is the global batch,
// so the learning rate applies unchanged.
void StartDataParallel(Run& run, int64_t first_step) {
  std::vector<at::Tensor> step{torch::tensor({first_step}, torch::kInt64)};
  run.group->Broadcast(step, 0, "start-step broadcast");
  if (step[0].item<int64_t>() != first_step) {
    throw Error("rank " + std::to_string(run.group->rank()) + " starts at step " + std::to_string(first_step) +
                " but rank 0 at step " + std::to_string(step[0].item<int64_t>()) +
                ": every rank must see the same --train-dir (a shared directory across hosts)");
  }
  run.group->BroadcastModule(run.task->model());
  const auto& train = run.config.proto.train_config();
  const int world = run.group->world_size();
  Info("data-parallel: " + std::to_string(world) + " processes x " + std::to_string(train.batch_size() / world) +
       " images = global batch " + std::to_string(train.batch_size()) +
       " (train_config.batch_size); learning rate as configured (no scaling: the global batch is the config's)");
  if (train.freeze_batchnorm()) return;
  if (run.group->sync_batch_norm()) {
    const int synchronised = run.group->SynchroniseBatchNorm(run.task->model());
    Info("data-parallel: " + std::to_string(synchronised) + " BatchNorm layers use global-batch statistics (--sync-batch-norm)");
  } else if (run.chief) {
    Warn("data-parallel: BatchNorm statistics are computed per process on " + std::to_string(train.batch_size() / world) +
         " images (not synchronised); pass --sync-batch-norm, or set train_config.freeze_batchnorm: true, for results "
         "identical to one process");
  }
}

// Restores the newest step checkpoint of `dir`; returns its step.
int64_t Resume(Run& run, const std::filesystem::path& dir) {
  const auto checkpoints = ListStepCheckpoints(dir);
  if (checkpoints.empty()) throw UsageError("--resume: no ckpt-*.safetensors in " + dir.string());
  const CheckpointInfo info = LoadTrainingCheckpoint(checkpoints.back(), run.task->model(), run.optimizer.get());
  auto best = info.metadata.find(run.task->BestScoreKey());
  if (best != info.metadata.end()) run.best_score = std::stod(best->second);
  int last_segment = 0;
  run.csv_rows = ReadMetricsCsv(dir / "metrics.csv", info.step, run, &last_segment);
  run.segment = last_segment + 1;
  Info("resuming from " + checkpoints.back().string() + " at step " + std::to_string(info.step));
  return info.step;
}

[[noreturn]] void StopOnNonFiniteLoss(double loss_value, int64_t step, const std::filesystem::path& dir) {
  const auto kept = ListStepCheckpoints(dir);
  throw Error("step " + std::to_string(step + 1) + ": the loss is " + (std::isnan(loss_value) ? "NaN" : "infinite") +
              "; training stopped. Last good checkpoint: " + (kept.empty() ? "none" : kept.back().string()) +
              ". Lower the learning rate or enable gradient_clipping_by_norm.");
}

// Evaluates, logs, and saves best.safetensors when the score improved; returns the metrics.csv cells.
std::string EvaluateAndKeepBest(Run& run, int64_t step, const std::filesystem::path& dir, TrainResult* result) {
  const TaskEval e = run.task->Evaluate(step, run.eval_events.get());
  result->evaluated = true;
  result->eval_metrics = e.metrics;
  if (e.semantic) result->last_eval = *e.semantic;
  Info("step " + std::to_string(step) + ": " + e.summary);
  if (e.score > run.best_score) {
    run.best_score = e.score;
    CheckpointInfo info{step, CheckpointMetadata(run)};
    if (run.chief) SaveTrainingCheckpoint(dir / "best.safetensors", run.task->model(), nullptr, info);
  }
  return Join(e.csv_cells);
}

// A new run never mixes into a directory it did not write: nothing there is replaced unless the user
// said --overwrite and the directory is a previous run's (metrics.csv), whose checkpoints then go
// (else --resume would later pick the old run's newest checkpoint).
void PrepareNewTrainDir(const TrainOptions& options) {
  const std::filesystem::path& dir = options.train_dir;
  CheckOutputDirectory(dir, options.overwrite, {"train", "--train-dir", "segtune train", {"metrics.csv"}});
  if (!std::filesystem::exists(dir / "metrics.csv")) return;
  for (const auto& ckpt : ListStepCheckpoints(dir)) std::filesystem::remove(ckpt);
  std::filesystem::remove(dir / "metrics.csv");
  Info("train: --overwrite: removed the previous run's checkpoints and metrics.csv from " + dir.string());
}

}  // namespace

TrainResult Train(const TrainOptions& options) {
  const bool chief = !options.distributed.active() || options.distributed.rank == 0;
  if (!options.resume && chief) PrepareNewTrainDir(options);
  Run run;
  if (options.distributed.active()) JoinDataParallel(run, options);
  SetUp(run, options);
  const auto& train = run.config.proto.train_config();
  const int64_t num_steps = options.num_steps > 0 ? options.num_steps : train.num_steps();
  if (num_steps <= 0) throw UsageError("no step to run: set train_config.num_steps or pass --num-steps");

  TrainResult result;
  const std::filesystem::path dir = options.train_dir;
  std::filesystem::create_directories(dir);
  if (options.resume) result.first_step = Resume(run, dir);
  if (run.group) StartDataParallel(run, result.first_step);
  if (run.chief) WriteFileAtomic(dir / "pipeline.config", run.config.text);
  if (run.chief) run.train_events = std::make_unique<EventWriter>(dir / "train");
  if (run.task->HasEval() && run.chief) run.eval_events = std::make_unique<EventWriter>(dir / "eval");

  StopSignals signals;
  const auto& reader = run.config.proto.train_input_reader();
  const int workers = reader.num_workers() > 0 ? static_cast<int>(reader.num_workers()) : std::max(1, options.threads);
  const int prefetch = reader.has_num_prefetch_batches() ? static_cast<int>(reader.num_prefetch_batches()) : 2 + workers;
  run.task->StartInput(result.first_step, num_steps, workers, prefetch);
  Progress progress("train", num_steps - result.first_step, "step");
  const double backbone_multiplier = train.backbone_learning_rate_multiplier();
  const auto& schedule = ConfiguredSchedule(train);
  const int64_t log_every = std::max<uint32_t>(1, train.log_every_n_steps());
  const int64_t eval_every = run.config.proto.eval_config().eval_every_n_steps();
  const int64_t checkpoint_every = train.checkpoint_every_n_steps();
  const std::vector<std::string> term_names = run.task->TermNames();
  run.task->SetTrainMode();
  double window_seconds = 0;
  int64_t window_images = 0;
  double window_wait_start = run.task->data_wait_seconds();
  int64_t step = result.first_step;
  result.last_step = step;
  while (step < num_steps) {
    if (!run.task->NextBatch()) break;
    const auto start = std::chrono::steady_clock::now();
    torch::manual_seed(StepSeed(train.seed(), step));  // Dropout, samplers etc.: a pure function of the step.
    StepLoss out;
    run.task->Forward(&out);
    const double lr = LearningRateAt(schedule, step);
    SetLearningRates(*run.optimizer, lr, backbone_multiplier);
    torch::Tensor loss = out.loss;
    double loss_value = loss.item<double>();
    bool stop_voted = false;
    if (run.group) {  // Global mean loss; local scale so the averaged gradients are the global batch's.
      const StepReduction r = run.group->ReduceStep(step, loss_value, out.loss_denominator, g_stop_signal != 0);
      loss_value = r.loss;
      loss = loss * r.local_scale;
      stop_voted = r.stop;
    }
    if (!std::isfinite(loss_value)) StopOnNonFiniteLoss(loss_value, step, dir);
    ClearGradients(*run.optimizer, run.group != nullptr);
    loss.backward();
    if (run.group) run.group->AverageGradients(run.task->model());
    if (train.gradient_clipping_by_norm() > 0) {
      torch::nn::utils::clip_grad_norm_(run.task->model().parameters(), train.gradient_clipping_by_norm());
    }
    run.optimizer->step();
    ++step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.compute_seconds += seconds;
    result.losses.push_back(loss_value);
    result.loss_terms.push_back(out.terms);
    result.last_step = step;
    window_seconds += seconds;
    window_images += out.images * (run.group ? run.group->world_size() : 1);  // Global batch images.
    progress.Advance();
    char detail[128];
    std::snprintf(detail, sizeof detail, "loss %.4f lr %.3g %.1f img/s", loss_value, lr,
                  window_seconds > 0 ? window_images / window_seconds : 0.0);
    progress.SetDetail(detail);

    std::string eval_cells;
    if (run.task->HasEval() && ((eval_every > 0 && step % eval_every == 0) || step == num_steps)) {
      eval_cells = EvaluateAndKeepBest(run, step, dir, &result);
    } else {
      eval_cells = std::string(run.task->EvalColumns().size(), ',');
    }
    const bool evaluated_now = eval_cells.find_first_not_of(',') != std::string::npos;
    if (run.chief && (step % log_every == 0 || step == num_steps || evaluated_now)) {
      const double throughput = window_seconds > 0 ? window_images / window_seconds : 0;
      run.train_events->AddScalar("train/loss", loss_value, step);
      std::string terms;
      for (size_t t = 0; t < out.terms.size() && t < term_names.size(); ++t) {
        run.train_events->AddScalar("train/" + term_names[t], out.terms[t], step);
        char cell[32];
        std::snprintf(cell, sizeof cell, ",%.9g", out.terms[t]);
        terms += cell;
      }
      run.train_events->AddScalar("train/learning_rate", lr, step);
      run.train_events->AddScalar("train/images_per_second", throughput, step);
      char row[256];
      std::snprintf(row, sizeof row, "%lld,%.9g", static_cast<long long>(step), loss_value);
      char tail[128];
      std::snprintf(tail, sizeof tail, ",%.9g,%.3f", lr, throughput);
      const double wait = run.task->data_wait_seconds() - window_wait_start;
      char wait_cells[64];
      std::snprintf(wait_cells, sizeof wait_cells, ",%.4f,%d", wait + window_seconds > 0 ? wait / (wait + window_seconds) : 0.0,
                    run.segment);
      run.csv_rows.push_back(row + terms + tail + eval_cells + wait_cells);
      WriteMetricsCsv(run, dir);
      window_seconds = 0;
      window_images = 0;
      window_wait_start = run.task->data_wait_seconds();
    }
    run.task->AfterStep(step, run.chief ? run.train_events.get() : nullptr);
    const bool stop = (run.group ? stop_voted : g_stop_signal != 0) || (options.stop_after_step > 0 && step >= options.stop_after_step);
    if (stop || step == num_steps || (checkpoint_every > 0 && step % checkpoint_every == 0)) {
      result.last_checkpoint = SaveCheckpoint(run, dir, step);
    }
    if (stop) {
      result.interrupted = true;
      // A peer's vote stops this rank too; it was interrupted like the rest of the job.
      result.stop_signal = g_stop_signal != 0 ? int(g_stop_signal) : (stop_voted ? SIGINT : 0);
      Info(std::string(g_stop_signal ? "interrupted" : "stopped") + " after step " + std::to_string(step) +
           "; checkpoint " + result.last_checkpoint.string() + " (continue with --resume)");
      break;
    }
  }
  progress.Finish();
  if (run.group && step > result.first_step) {
    Info("data-parallel: gradient allreduce " +
         std::to_string(1000 * run.group->allreduce_seconds() / static_cast<double>(step - result.first_step)) +
         " ms/step");
  }
  result.data_wait_seconds = run.task->data_wait_seconds();
  return result;
}

}  // namespace segtune
