// The semantic segmentation TrainTask: cross-entropy with ignore label (+ auxiliary loss), mIoU
// evaluation, input/ground-truth/prediction overlays.
#include <torch/torch.h>

#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/data/class_colors.h"
#include "segtune/engine/distributed.h"
#include "segtune/formats/events.h"
#include "segtune/engine/finetune.h"
#include "segtune/engine/image_summary.h"
#include "segtune/engine/input_setup.h"
#include "segtune/engine/optim.h"
#include "segtune/engine/train_task.h"
#include "segtune/models/semantic_registry.h"

namespace segtune {

namespace {

torch::Tensor ImagesTensor(SemanticBatch& b, const torch::Device& device) {
  return torch::from_blob(b.images.data(), {b.n, 3, b.height, b.width}, torch::kFloat32).to(device);
}

torch::Tensor LabelsTensor(SemanticBatch& b, const torch::Device& device) {
  return torch::from_blob(b.labels.data(), {b.n, b.height, b.width}, torch::kUInt8).to(device, torch::kLong);
}


cv::Vec3b Rgb(const cv::Vec3b& bgr) { return {bgr[2], bgr[1], bgr[0]}; }

// [input | ground truth over input | prediction over input], BGR for the event writer.
cv::Mat Overlay(const cv::Mat& rgb, const uint8_t* gt, const uint8_t* pred, int stride) {
  const int h = rgb.rows, w = rgb.cols;
  cv::Mat out(h, 3 * w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
      // The canvas is RGB until the end; ClassColor is BGR.
      const cv::Vec3b g = Rgb(ClassColor(gt[y * stride + x])), q = Rgb(ClassColor(pred[y * stride + x]));
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

class SemanticTask : public TrainTask {
 public:
  explicit SemanticTask(const TaskContext& c) : config_(c.config), device_(c.device), group_(c.group) {
    const auto& seg = config_.proto.model().segmentation();
    info_ = FindSemanticModelInfo(seg.architecture());
    threads_ = c.options.threads;
    if (seg.num_classes() < 1) throw UsageError(config_.path.string() + ": model num_classes must be >= 1");
    model_ = CreateSemanticModel(seg.architecture(), seg.num_classes(), seg.aux_loss());
    const auto& train = config_.proto.train_config();
    if (train.batchnorm_momentum() > 0) SetBatchNormMomentum(*model_, train.batchnorm_momentum());
    const std::string& ckpt = train.fine_tune_checkpoint();
    if (!c.options.resume && !ckpt.empty()) {
      if (IsUnconfiguredPath(ckpt)) {
        throw UsageError("train_config.fine_tune_checkpoint still holds TF's placeholder: " + ckpt);
      }
      const LoadReport report = LoadFineTuneCheckpoint(*model_, ckpt, train.fine_tune_checkpoint_type());
      Info("fine-tuning from " + ckpt + ":\n" + report.ToString());
    }
    model_->to(device_);
    // NHWC convolutions train MobileNetV3 ~1.2x faster on CPU (libtorch 1.13); weights keep their names
    // and values, checkpoints are written contiguous.
    if (device_.is_cpu()) model_->SetChannelsLast(true);
    Info(ApplyTrainableSelection(*model_, train).ToString());
    if (train.class_weights_size() > 0) {
      if (train.class_weights_size() != seg.num_classes()) {
        throw UsageError("train_config.class_weights has " + std::to_string(train.class_weights_size()) +
                         " values; expected num_classes = " + std::to_string(seg.num_classes()));
      }
      class_weights_ =
          torch::tensor(std::vector<float>(train.class_weights().begin(), train.class_weights().end())).to(device_);
    }
    if (config_.proto.has_train_input_reader()) {
      class_names_ = ClassNames(config_.proto.train_input_reader(), seg.num_classes());
    }
    ReadDatasets();
  }

  torch::nn::Module& model() override { return *model_; }

  std::map<std::string, std::string> CheckpointMetadata() const override {
    const auto& seg = config_.proto.model().segmentation();
    return {{"segtune.architecture", seg.architecture()},
            {"segtune.num_classes", std::to_string(seg.num_classes())},
            {"segtune.aux_loss", seg.aux_loss() ? "true" : "false"},
            {"segtune.seed", std::to_string(config_.proto.train_config().seed())},
            {"segtune.pipeline_config", config_.text}};
  }
  std::string BestScoreKey() const override { return "segtune.best_miou"; }
  std::vector<std::string> TermNames() const override { return {}; }
  std::vector<std::string> EvalColumns() const override { return {"eval_miou", "eval_pixel_accuracy"}; }

  void SetTrainMode() override {
    model_->train();
    if (config_.proto.train_config().freeze_batchnorm()) FreezeBatchNorm(*model_);
  }

  void StartInput(int64_t first, int64_t end, int workers, int prefetch) override {
    Info("training " + info_.name + " on " + std::to_string(train_data_->size()) + " records, batch " +
         std::to_string(train_data_->options().batch_size) + ", steps " + std::to_string(first) + " -> " +
         std::to_string(end));
    loader_ = std::make_unique<BatchLoader>(*train_data_, first, end, workers, prefetch);
  }

  bool NextBatch() override { return loader_->Next(&batch_); }

  void Forward(StepLoss* out) override {
    const torch::Tensor images = ImagesTensor(batch_, device_);
    const torch::Tensor labels = LabelsTensor(batch_, device_);
    output_ = model_->forward(images);
    out->loss = Loss(output_, labels);
    out->images = batch_.n;
    if (group_) out->loss_denominator = LossDenominator(labels, class_weights_, ignore_label());
  }

  void AfterStep(int64_t step, EventWriter* events) override {
    const uint32_t every = config_.proto.train_config().image_summary_every_n_steps();
    if (events == nullptr || every == 0 || step % every != 0) return;
    // Train overlay of the first sample: input, ground truth, prediction (decoded from the batch).
    torch::NoGradGuard no_grad;
    const torch::Tensor pred = output_.out.argmax(1).to(torch::kCPU, torch::kUInt8).contiguous();
    cv::Mat rgb(batch_.height, batch_.width, CV_8UC3);
    for (int y = 0; y < batch_.height; ++y) {
      for (int x = 0; x < batch_.width; ++x) {
        for (int c = 0; c < 3; ++c) {
          const float v = batch_.images[(c * batch_.height + y) * batch_.width + x];
          rgb.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uint8_t>((v * info_.std[c] + info_.mean[c]) * 255.f);
        }
      }
    }
    AddImageSummary(*events, "train/overlay", Overlay(rgb, batch_.labels.data(), pred.data_ptr<uint8_t>(), batch_.width),
                    step);
  }

  double data_wait_seconds() const override { return loader_ ? loader_->wait_seconds() : 0; }

  bool HasEval() const override { return eval_data_ != nullptr; }

  TaskEval Evaluate(int64_t step, EventWriter* events) override {
    const SemanticMetrics m = ComputeSemanticMetrics(EvalConfusion(step, events));
    if (events) {
      events->AddScalar("eval/mIoU", m.mean_iou, step);
      events->AddScalar("eval/pixel_accuracy", m.pixel_accuracy, step);
      events->AddScalar("eval/mean_class_accuracy", m.mean_class_accuracy, step);
      for (size_t c = 0; c < m.per_class.size(); ++c) {
        if (!m.per_class[c].present) continue;
        const std::string name = c < class_names_.size() ? class_names_[c] : "class_" + std::to_string(c);
        events->AddScalar("eval/IoU/" + name, m.per_class[c].iou, step);
      }
    }
    SetTrainMode();
    TaskEval e;
    e.score = m.mean_iou;
    e.summary = "eval mIoU " + std::to_string(m.mean_iou) + ", pixel accuracy " + std::to_string(m.pixel_accuracy);
    e.csv_cells = {std::to_string(m.mean_iou), std::to_string(m.pixel_accuracy)};
    e.metrics = {{"mIoU", m.mean_iou}, {"pixel_accuracy", m.pixel_accuracy}};
    e.semantic = m;
    return e;
  }

 private:
  int ignore_label() const { return config_.proto.model().segmentation().ignore_label(); }

  void ReadDatasets() {
    if (!config_.proto.has_train_input_reader()) throw UsageError("the config has no train_input_reader");
    SemanticDatasetOptions train_options =
        MakeDatasetOptions(config_.proto, config_.proto.train_input_reader(), info_, /*train=*/true);
    train_options.shard = group_ ? group_->rank() : 0;
    train_options.num_shards = group_ ? group_->world_size() : 1;
    train_data_ = std::make_unique<SemanticDataset>(train_options);
    if (config_.proto.eval_input_reader_size() > 0) {
      SemanticDatasetOptions eval_options =
          MakeDatasetOptions(config_.proto, config_.proto.eval_input_reader(0), info_, /*train=*/false);
      eval_options.keep_rgb = true;
      eval_data_ = std::make_unique<SemanticDataset>(eval_options);
    }
  }

  torch::Tensor Loss(const SemanticOutput& out, const torch::Tensor& labels) const {
    auto options = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignore_label());
    if (class_weights_.defined()) options.weight(class_weights_);
    torch::Tensor loss = torch::nn::functional::cross_entropy(out.out, labels, options);
    if (out.aux.defined()) {
      loss = loss + config_.proto.train_config().aux_loss_weight() *
                        torch::nn::functional::cross_entropy(out.aux, labels, options);
    }
    return loss;
  }

  // The eval set's confusion (this rank's shard, then reduced over ranks), with overlays.
  SemanticConfusion EvalConfusion(int64_t step, EventWriter* events) {
    model_->eval();
    torch::NoGradGuard no_grad;
    SemanticConfusion confusion(static_cast<int>(model_->num_classes()), ignore_label());
    const auto [first, end] = group_ ? ShardRange(eval_data_->BatchesPerEpoch(), group_->rank(), group_->world_size())
                                     : std::make_pair(int64_t{0}, eval_data_->BatchesPerEpoch());
    const auto& reader = config_.proto.eval_input_reader(0);
    const int workers = reader.num_workers() > 0 ? static_cast<int>(reader.num_workers()) : std::max(1, threads_);
    BatchLoader loader(*eval_data_, first, end, workers, static_cast<int>(reader.num_prefetch_batches()));
    SemanticBatch batch;
    int visualized = 0;
    const int max_visualizations = static_cast<int>(config_.proto.eval_config().num_visualizations());
    while (loader.Next(&batch)) {
      const torch::Tensor pred =
          model_->forward(ImagesTensor(batch, device_)).out.argmax(1).to(torch::kCPU, torch::kUInt8).contiguous();
      confusion.Add(batch.labels.data(), pred.data_ptr<uint8_t>(), batch.labels.size());
      for (int k = 0; k < batch.n && visualized < max_visualizations && events; ++k, ++visualized) {
        const size_t plane = static_cast<size_t>(batch.height) * batch.width;
        AddImageSummary(*events, "overlay/" + std::to_string(visualized),
                        Overlay(batch.rgb[k], batch.labels.data() + k * plane, pred.data_ptr<uint8_t>() + k * plane,
                                batch.width),
                        step);
      }
    }
    if (group_) group_->AllReduceConfusion(&confusion);
    return confusion;
  }

  const PipelineConfig& config_;
  torch::Device device_;
  DataParallelGroup* group_;
  int threads_ = 1;
  SemanticModelInfo info_;
  SemanticModel model_{nullptr};
  torch::Tensor class_weights_;
  std::vector<std::string> class_names_;
  std::unique_ptr<SemanticDataset> train_data_, eval_data_;
  std::unique_ptr<BatchLoader> loader_;
  SemanticBatch batch_;
  SemanticOutput output_;
};

}  // namespace

std::unique_ptr<TrainTask> MakeSemanticTask(const TaskContext& context) {
  return std::make_unique<SemanticTask>(context);
}

}  // namespace segtune
