#include "segtune/engine/trainer.h"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/engine/distributed.h"
#include "segtune/engine/events.h"
#include "segtune/engine/finetune.h"
#include "segtune/engine/input_setup.h"
#include "segtune/engine/optim.h"
#include "segtune/engine/pipeline_config.h"
#include "segtune/engine/schedule.h"
#include "segtune/models/registry.h"

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

torch::Tensor ImagesTensor(SegmentationBatch& b, const torch::Device& device) {
  return torch::from_blob(b.images.data(), {b.n, 3, b.height, b.width}, torch::kFloat32).to(device);
}

torch::Tensor LabelsTensor(SegmentationBatch& b, const torch::Device& device) {
  return torch::from_blob(b.labels.data(), {b.n, b.height, b.width}, torch::kUInt8).to(device, torch::kLong);
}

// A fixed palette: class c gets a distinct color; ignore is black.
cv::Vec3b ClassColor(int c) {
  if (c == 255) return {0, 0, 0};
  static const cv::Vec3b palette[] = {{0, 0, 0},     {230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                      {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60}};
  return palette[c % 10];
}

// [input | ground truth over input | prediction over input], BGR for the event writer.
cv::Mat Overlay(const cv::Mat& rgb, const uint8_t* gt, const uint8_t* pred, int stride) {
  const int h = rgb.rows, w = rgb.cols;
  cv::Mat out(h, 3 * w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
      const cv::Vec3b g = ClassColor(gt[y * stride + x]), q = ClassColor(pred[y * stride + x]);
      out.at<cv::Vec3b>(y, x) = p;
      for (int c = 0; c < 3; ++c) {
        out.at<cv::Vec3b>(y, w + x)[c] = static_cast<uint8_t>(p[c] / 2 + g[c] / 2);
        out.at<cv::Vec3b>(y, 2 * w + x)[c] = static_cast<uint8_t>(p[c] / 2 + q[c] / 2);
      }
    }
  }
  cv::cvtColor(out, out, cv::COLOR_RGB2BGR);
  return out;
}

struct Run {
  PipelineConfig config;
  SegmentationModelInfo info;
  SegmentationModel model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  torch::Device device{torch::kCPU};
  torch::Tensor class_weights;
  std::vector<std::string> class_names;
  std::unique_ptr<SegmentationDataset> eval_data;
  std::unique_ptr<EventWriter> train_events, eval_events;
  std::vector<std::string> csv_rows;
  double best_miou = -1;
  std::unique_ptr<DataParallelGroup> group;  // Data-parallel runs only.
  bool chief = true;                         // Writes checkpoints, events, metrics.csv, progress.
};

torch::Tensor Loss(Run& run, const SegmentationOutput& out, const torch::Tensor& labels) {
  const int ignore = run.config.proto.model().segmentation().ignore_label();
  auto options = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignore);
  if (run.class_weights.defined()) options.weight(run.class_weights);
  torch::Tensor loss = torch::nn::functional::cross_entropy(out.out, labels, options);
  if (out.aux.defined()) {
    loss = loss + run.config.proto.train_config().aux_loss_weight() *
                      torch::nn::functional::cross_entropy(out.aux, labels, options);
  }
  return loss;
}

// Walks children() by hand: Module::modules() needs the root to be held by a shared_ptr.
void FreezeBatchNorm(torch::nn::Module& module) {
  for (const auto& child : module.children()) {
    if (child->as<torch::nn::BatchNorm2d>() != nullptr) child->eval();
    FreezeBatchNorm(*child);
  }
}

void SetBatchNormMomentum(torch::nn::Module& module, double momentum) {
  for (const auto& child : module.children()) {
    if (auto* bn = child->as<torch::nn::BatchNorm2d>()) bn->options.momentum(momentum);
    SetBatchNormMomentum(*child, momentum);
  }
}

void SetTrainMode(Run& run) {
  run.model->train();
  if (run.config.proto.train_config().freeze_batchnorm()) FreezeBatchNorm(*run.model);
}

SemsegMetrics Evaluate(Run& run, int64_t step, int threads) {
  run.model->eval();
  torch::NoGradGuard no_grad;
  SemsegConfusion confusion(static_cast<int>(run.model->num_classes()),
                            run.config.proto.model().segmentation().ignore_label());
  const auto [first, end] = run.group ? ShardRange(run.eval_data->BatchesPerEpoch(), run.group->rank(),
                                                   run.group->world_size())
                                      : std::make_pair(int64_t{0}, run.eval_data->BatchesPerEpoch());
  const auto& reader = run.config.proto.eval_input_reader(0);
  const int workers = reader.num_workers() > 0 ? static_cast<int>(reader.num_workers()) : std::max(1, threads);
  BatchLoader loader(*run.eval_data, first, end, workers, static_cast<int>(reader.num_prefetch_batches()));
  SegmentationBatch batch;
  int visualized = 0;
  const int max_visualizations = static_cast<int>(run.config.proto.eval_config().num_visualizations());
  while (loader.Next(&batch)) {
    const torch::Tensor pred =
        run.model->forward(ImagesTensor(batch, run.device)).out.argmax(1).to(torch::kCPU, torch::kUInt8).contiguous();
    confusion.Add(batch.labels.data(), pred.data_ptr<uint8_t>(), batch.labels.size());
    for (int k = 0; k < batch.n && visualized < max_visualizations && run.eval_events; ++k, ++visualized) {
      const size_t plane = static_cast<size_t>(batch.height) * batch.width;
      run.eval_events->AddImage("overlay/" + std::to_string(visualized),
                                Overlay(batch.rgb[k], batch.labels.data() + k * plane, pred.data_ptr<uint8_t>() + k * plane,
                                        batch.width),
                                step);
    }
  }
  if (run.group) run.group->AllReduceConfusion(&confusion);
  const SemsegMetrics m = ComputeSemsegMetrics(confusion);
  if (run.eval_events) {
    run.eval_events->AddScalar("eval/mIoU", m.mean_iou, step);
    run.eval_events->AddScalar("eval/pixel_accuracy", m.pixel_accuracy, step);
    run.eval_events->AddScalar("eval/mean_class_accuracy", m.mean_class_accuracy, step);
    for (size_t c = 0; c < m.per_class.size(); ++c) {
      if (!m.per_class[c].present) continue;
      const std::string name = c < run.class_names.size() ? run.class_names[c] : "class_" + std::to_string(c);
      run.eval_events->AddScalar("eval/IoU/" + name, m.per_class[c].iou, step);
    }
  }
  SetTrainMode(run);
  return m;
}

void WriteMetricsCsv(const Run& run, const std::filesystem::path& dir) {
  std::string text = "step,loss,learning_rate,images_per_second,eval_miou,eval_pixel_accuracy\n";
  for (const auto& row : run.csv_rows) text += row + "\n";
  WriteFileAtomic(dir / "metrics.csv", text);
}

// Rows of an existing metrics.csv up to (and including) `step`, so a resumed run continues the file.
std::vector<std::string> ReadMetricsCsv(const std::filesystem::path& path, int64_t step) {
  std::vector<std::string> rows;
  if (!std::filesystem::exists(path)) return rows;
  std::istringstream in(ReadFile(path));
  std::string line;
  std::getline(in, line);  // Header.
  while (std::getline(in, line)) {
    if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= step) rows.push_back(line);
  }
  return rows;
}

std::map<std::string, std::string> CheckpointMetadata(const Run& run) {
  const auto& seg = run.config.proto.model().segmentation();
  return {{"segtune.architecture", seg.architecture()},
          {"segtune.num_classes", std::to_string(seg.num_classes())},
          {"segtune.aux_loss", seg.aux_loss() ? "true" : "false"},
          {"segtune.seed", std::to_string(run.config.proto.train_config().seed())},
          {"segtune.best_miou", std::to_string(run.best_miou)},
          {"segtune.pipeline_config", run.config.text}};
}

std::filesystem::path SaveCheckpoint(Run& run, const std::filesystem::path& dir, int64_t step) {
  CheckpointInfo info;
  info.step = step;
  info.metadata = CheckpointMetadata(run);
  const std::filesystem::path path = dir / CheckpointFileName(step);
  if (!run.chief) return path;
  SaveTrainingCheckpoint(path, *run.model, run.optimizer.get(), info);
  PruneStepCheckpoints(dir, static_cast<int>(run.config.proto.train_config().keep_checkpoint_max()));
  return path;
}

void SetUp(Run& run, const TrainOptions& options) {
  run.config = LoadPipelineConfig(options.pipeline_config);
  for (const auto& w : run.config.warnings) Warn(w.ToString(run.config.path));
  const auto& seg = run.config.proto.model().segmentation();
  run.info = FindModelInfo(seg.architecture());
  if (seg.num_classes() < 1) throw UsageError(options.pipeline_config.string() + ": model num_classes must be >= 1");
  run.device = torch::Device(options.device);
  torch::manual_seed(run.config.proto.train_config().seed());
  run.model = CreateSegmentationModel(seg.architecture(), seg.num_classes(), seg.aux_loss());
  if (run.config.proto.train_config().batchnorm_momentum() > 0) {
    SetBatchNormMomentum(*run.model, run.config.proto.train_config().batchnorm_momentum());
  }
  const auto& train = run.config.proto.train_config();
  const std::string& ckpt = train.fine_tune_checkpoint();
  if (!options.resume && !ckpt.empty()) {
    if (IsUnconfiguredPath(ckpt)) {
      throw UsageError("train_config.fine_tune_checkpoint still holds TF's placeholder: " + ckpt);
    }
    const LoadReport report = LoadFineTuneCheckpoint(*run.model, ckpt, train.fine_tune_checkpoint_type());
    Info("fine-tuning from " + ckpt + ":\n" + report.ToString());
  }
  run.model->to(run.device);
  // NHWC convolutions train MobileNetV3 ~1.2x faster on CPU (libtorch 1.13); weights keep their names
  // and values, checkpoints are written contiguous.
  if (run.device.is_cpu()) run.model->SetChannelsLast(true);
  const TrainableSummary trainable = ApplyTrainableSelection(*run.model, train);
  Info(trainable.ToString());
  run.optimizer = BuildOptimizer(*run.model, train);
  if (train.class_weights_size() > 0) {
    if (train.class_weights_size() != seg.num_classes()) {
      throw UsageError("train_config.class_weights has " + std::to_string(train.class_weights_size()) +
                       " values; expected num_classes = " + std::to_string(seg.num_classes()));
    }
    run.class_weights = torch::tensor(std::vector<float>(train.class_weights().begin(), train.class_weights().end()))
                            .to(run.device);
  }
  if (run.config.proto.has_train_input_reader()) {
    run.class_names = ClassNames(run.config.proto.train_input_reader(), seg.num_classes());
  }
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
  run.group->BroadcastModule(*run.model);
  const auto& train = run.config.proto.train_config();
  const int world = run.group->world_size();
  Info("data-parallel: " + std::to_string(world) + " processes x " + std::to_string(train.batch_size() / world) +
       " images = global batch " + std::to_string(train.batch_size()) +
       " (train_config.batch_size); learning rate as configured (no scaling: the global batch is the config's)");
  if (train.freeze_batchnorm()) return;
  if (run.group->sync_batch_norm()) {
    const int synchronised = run.group->SynchroniseBatchNorm(*run.model);
    Info("data-parallel: " + std::to_string(synchronised) + " BatchNorm layers use global-batch statistics (--sync-batch-norm)");
  } else if (run.chief) {
    Warn("data-parallel: BatchNorm statistics are computed per process on " + std::to_string(train.batch_size() / world) +
         " images (not synchronised); pass --sync-batch-norm, or set train_config.freeze_batchnorm: true, for results "
         "identical to one process");
  }
}

}  // namespace

TrainResult Train(const TrainOptions& options) {
  Run run;
  if (options.distributed.active()) JoinDataParallel(run, options);
  SetUp(run, options);
  const auto& train = run.config.proto.train_config();
  const int64_t num_steps = options.num_steps > 0 ? options.num_steps : train.num_steps();
  if (num_steps <= 0) throw UsageError("no step to run: set train_config.num_steps or pass --num-steps");
  if (!run.config.proto.has_train_input_reader()) throw UsageError("the config has no train_input_reader");

  TrainResult result;
  const std::filesystem::path dir = options.train_dir;
  std::filesystem::create_directories(dir);
  if (options.resume) {
    const auto checkpoints = ListStepCheckpoints(dir);
    if (checkpoints.empty()) throw UsageError("--resume: no ckpt-*.safetensors in " + dir.string());
    const CheckpointInfo info = LoadTrainingCheckpoint(checkpoints.back(), *run.model, run.optimizer.get());
    result.first_step = info.step;
    auto best = info.metadata.find("segtune.best_miou");
    if (best != info.metadata.end()) run.best_miou = std::stod(best->second);
    run.csv_rows = ReadMetricsCsv(dir / "metrics.csv", info.step);
    Info("resuming from " + checkpoints.back().string() + " at step " + std::to_string(info.step));
  }
  if (run.group) StartDataParallel(run, result.first_step);
  if (run.chief) WriteFileAtomic(dir / "pipeline.config", run.config.text);

  DatasetOptions train_options =
      MakeDatasetOptions(run.config.proto, run.config.proto.train_input_reader(), run.info, /*train=*/true);
  train_options.shard = run.group ? run.group->rank() : 0;
  train_options.num_shards = run.group ? run.group->world_size() : 1;
  const SegmentationDataset train_data(train_options);
  const bool image_summaries = train.image_summary_every_n_steps() > 0;
  if (run.config.proto.eval_input_reader_size() > 0) {
    DatasetOptions eval_options =
        MakeDatasetOptions(run.config.proto, run.config.proto.eval_input_reader(0), run.info, /*train=*/false);
    eval_options.keep_rgb = true;
    run.eval_data = std::make_unique<SegmentationDataset>(eval_options);
  }
  if (run.chief) run.train_events = std::make_unique<EventWriter>(dir / "train");
  if (run.eval_data && run.chief) run.eval_events = std::make_unique<EventWriter>(dir / "eval");
  Info("training " + run.info.name + " on " + std::to_string(train_data.size()) + " records, batch " +
       std::to_string(train_options.batch_size) + ", steps " + std::to_string(result.first_step) + " -> " +
       std::to_string(num_steps));

  StopSignals signals;
  const uint32_t configured_workers = run.config.proto.train_input_reader().num_workers();
  const int workers = configured_workers > 0 ? static_cast<int>(configured_workers) : std::max(1, options.threads);
  const auto& reader = run.config.proto.train_input_reader();
  const int prefetch = reader.has_num_prefetch_batches() ? static_cast<int>(reader.num_prefetch_batches()) : 2 + workers;
  BatchLoader loader(train_data, result.first_step, num_steps, workers, prefetch);
  Progress progress("train", num_steps - result.first_step, "step");
  const double backbone_multiplier = train.backbone_learning_rate_multiplier();
  const auto& schedule = ConfiguredSchedule(train);
  const int64_t log_every = std::max<uint32_t>(1, train.log_every_n_steps());
  const int64_t eval_every = run.config.proto.eval_config().eval_every_n_steps();
  const int64_t checkpoint_every = train.checkpoint_every_n_steps();
  SetTrainMode(run);
  double window_seconds = 0;
  int64_t window_images = 0;
  SegmentationBatch batch;
  int64_t step = result.first_step;
  result.last_step = step;
  while (step < num_steps) {
    if (!loader.Next(&batch)) break;
    const auto start = std::chrono::steady_clock::now();
    torch::manual_seed(StepSeed(train.seed(), step));  // Dropout etc.: a pure function of the step.
    const double lr = LearningRateAt(schedule, step);
    SetLearningRates(*run.optimizer, lr, backbone_multiplier);
    const torch::Tensor images = ImagesTensor(batch, run.device);
    const torch::Tensor labels = LabelsTensor(batch, run.device);
    const SegmentationOutput out = run.model->forward(images);
    torch::Tensor loss = Loss(run, out, labels);
    double loss_value = loss.item<double>();
    bool stop_voted = false;
    if (run.group) {  // Global mean loss; local scale so the averaged gradients are the global batch's.
      const StepReduction r = run.group->ReduceStep(
          step, loss_value, LossDenominator(labels, run.class_weights, run.config.proto.model().segmentation().ignore_label()),
          g_stop_signal != 0);
      loss_value = r.loss;
      loss = loss * r.local_scale;
      stop_voted = r.stop;
    }
    if (!std::isfinite(loss_value)) {
      const auto kept = ListStepCheckpoints(dir);
      throw Error("step " + std::to_string(step + 1) + ": the loss is " + (std::isnan(loss_value) ? "NaN" : "infinite") +
                  "; training stopped. Last good checkpoint: " + (kept.empty() ? "none" : kept.back().string()) +
                  ". Lower the learning rate or enable gradient_clipping_by_norm.");
    }
    run.optimizer->zero_grad();
    loss.backward();
    if (run.group) run.group->AverageGradients(*run.model);
    if (train.gradient_clipping_by_norm() > 0) {
      torch::nn::utils::clip_grad_norm_(run.model->parameters(), train.gradient_clipping_by_norm());
    }
    run.optimizer->step();
    ++step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.compute_seconds += seconds;
    result.losses.push_back(loss_value);
    result.last_step = step;
    window_seconds += seconds;
    window_images += batch.n * (run.group ? run.group->world_size() : 1);  // Global batch images.
    progress.Advance();
    char detail[128];
    std::snprintf(detail, sizeof detail, "loss %.4f lr %.3g %.1f img/s", loss_value, lr,
                  window_seconds > 0 ? window_images / window_seconds : 0.0);
    progress.SetDetail(detail);

    std::string eval_cells = ",";
    if (run.eval_data && ((eval_every > 0 && step % eval_every == 0) || step == num_steps)) {
      result.last_eval = Evaluate(run, step, options.threads);
      result.evaluated = true;
      eval_cells = std::to_string(result.last_eval.mean_iou) + "," + std::to_string(result.last_eval.pixel_accuracy);
      Info("step " + std::to_string(step) + ": eval mIoU " + std::to_string(result.last_eval.mean_iou) +
           ", pixel accuracy " + std::to_string(result.last_eval.pixel_accuracy));
      if (result.last_eval.mean_iou > run.best_miou) {
        run.best_miou = result.last_eval.mean_iou;
        CheckpointInfo info{step, CheckpointMetadata(run)};
        if (run.chief) SaveTrainingCheckpoint(dir / "best.safetensors", *run.model, nullptr, info);
      }
    }
    if (run.chief && (step % log_every == 0 || step == num_steps || eval_cells != ",")) {
      const double throughput = window_seconds > 0 ? window_images / window_seconds : 0;
      run.train_events->AddScalar("train/loss", loss_value, step);
      run.train_events->AddScalar("train/learning_rate", lr, step);
      run.train_events->AddScalar("train/images_per_second", throughput, step);
      char row[256];
      std::snprintf(row, sizeof row, "%lld,%.9g,%.9g,%.3f,", static_cast<long long>(step), loss_value, lr, throughput);
      run.csv_rows.push_back(row + eval_cells);
      WriteMetricsCsv(run, dir);
      window_seconds = 0;
      window_images = 0;
    }
    if (run.chief && image_summaries && step % train.image_summary_every_n_steps() == 0) {
      // Train overlay of the first sample: input, ground truth, prediction (decoded from the batch).
      torch::NoGradGuard no_grad;
      const torch::Tensor pred = out.out.argmax(1).to(torch::kCPU, torch::kUInt8).contiguous();
      cv::Mat rgb(batch.height, batch.width, CV_8UC3);
      for (int y = 0; y < batch.height; ++y) {
        for (int x = 0; x < batch.width; ++x) {
          for (int c = 0; c < 3; ++c) {
            const float v = batch.images[(c * batch.height + y) * batch.width + x];
            const float pixel = (v * run.info.std[c] + run.info.mean[c]) * 255.f;
            rgb.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uint8_t>(pixel);
          }
        }
      }
      run.train_events->AddImage("train/overlay", Overlay(rgb, batch.labels.data(), pred.data_ptr<uint8_t>(), batch.width),
                                 step);
    }
    const bool stop = (run.group ? stop_voted : g_stop_signal != 0) || (options.stop_after_step > 0 && step >= options.stop_after_step);
    if (stop || step == num_steps || (checkpoint_every > 0 && step % checkpoint_every == 0)) {
      result.last_checkpoint = SaveCheckpoint(run, dir, step);
    }
    if (stop) {
      result.interrupted = true;
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
  result.data_wait_seconds = loader.wait_seconds();
  return result;
}

}  // namespace segtune
