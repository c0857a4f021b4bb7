// The detection TrainTask: torchvision's Faster R-CNN / Mask R-CNN losses on batches from
// DetectionDataset, COCO box (and mask) AP on eval_input_reader.
#include <torch/torch.h>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/ordered_pool.h"
#include "segtune/config/detection_config.h"
#include "segtune/engine/detection_eval.h"
#include "segtune/formats/events.h"
#include "segtune/engine/finetune.h"
#include "segtune/engine/input_setup.h"
#include "segtune/engine/optim.h"
#include "segtune/engine/train_task.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/detection/generalized_rcnn.h"
#include "segtune/models/load_state.h"

namespace segtune {

namespace {

using detection::DetectionTarget;

// The loss terms in GeneralizedRCNN's names, in metrics.csv order.
const std::vector<std::string> kBoxTerms = {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"};

// [3,H,W] float in [0,1] (the model normalizes and resizes itself).
torch::Tensor ImageTensor(const cv::Mat& rgb, const torch::Device& device) {
  const cv::Mat m = rgb.isContinuous() ? rgb : rgb.clone();
  return torch::from_blob(const_cast<uint8_t*>(m.ptr<uint8_t>()), {m.rows, m.cols, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .to(device, torch::kFloat32)
      .div_(255.0);
}

DetectionTarget TargetOf(const DetectionSample& s, bool masks, const torch::Device& device) {
  const int64_t n = static_cast<int64_t>(s.labels.size());
  DetectionTarget t;
  t.boxes = torch::from_blob(const_cast<float*>(s.boxes.data()), {n, 4}, torch::kFloat32).clone().to(device);
  t.labels = torch::from_blob(const_cast<int64_t*>(s.labels.data()), {n}, torch::kInt64).clone().to(device);
  if (masks) {
    t.masks = torch::zeros({n, s.rgb.rows, s.rgb.cols}, torch::kUInt8);
    for (int64_t k = 0; k < n; ++k) {
      const cv::Mat m = s.masks[k].isContinuous() ? s.masks[k] : s.masks[k].clone();
      t.masks[k].copy_(torch::from_blob(const_cast<uint8_t*>(m.ptr<uint8_t>()), {m.rows, m.cols}, torch::kUInt8));
    }
    t.masks = t.masks.to(device);
  }
  return t;
}

// Applies the trainable selection of train_config (freeze_variables, update_trainable_variables,
// freeze_backbone...) on top of the layers the model froze itself (trainable_backbone_layers).
void ApplyDetectionTrainable(torch::nn::Module& model, const segtune::config::TrainConfig& train) {
  std::vector<torch::Tensor> frozen;
  for (auto& p : model.parameters()) {
    if (!p.requires_grad()) frozen.push_back(p);
  }
  TrainableSummary summary = ApplyTrainableSelection(model, train);
  for (auto& p : frozen) {
    if (p.requires_grad()) {
      p.set_requires_grad(false);
      summary.trainable_tensors -= 1, summary.frozen_tensors += 1;
      summary.trainable_scalars -= p.numel(), summary.frozen_scalars += p.numel();
    }
  }
  if (summary.trainable_tensors == 0) throw UsageError("train_config: freeze settings leave no parameter to train");
  Info(summary.ToString());
}

class DetectionTask : public TrainTask {
 public:
  explicit DetectionTask(const TaskContext& c)
      : config_(c.config), device_(c.device), threads_(c.options.threads), detection_(DetectionConfigFromPipeline(c.config)) {
    const auto& train = config_.proto.train_config();
    const detection::DetectionModelInfo& info = detection::GetDetectionModelInfo(detection_.model_name);
    masks_ = info.has_masks;
    const std::string& ckpt = train.fine_tune_checkpoint();
    // As torchvision's builders: without pretrained weights the backbone uses trainable
    // nn.BatchNorm2d and (unless the config says otherwise) every stage trains; with a
    // fine_tune_checkpoint (detection or backbone-only, torchvision's weights / weights_backbone)
    // it is FrozenBatchNorm2d.
    detection_.options.frozen_batch_norm = !ckpt.empty();
    if (!config_.proto.model().detection().has_trainable_backbone_layers() && ckpt.empty()) {
      detection_.options.trainable_backbone_layers = info.backbone == "resnet50" ? 5 : 6;
    }
    model_ = detection::BuildDetectionModel(detection_.model_name, detection_.options);
    if (!c.options.resume && !ckpt.empty()) FineTuneFrom(ckpt, train.fine_tune_checkpoint_type());
    model_->to(device_);
    ApplyDetectionTrainable(*model_, train);
    ReadDatasets();
  }

  torch::nn::Module& model() override { return *model_; }

  std::map<std::string, std::string> CheckpointMetadata() const override {
    return {{"segtune.architecture", detection_.model_name},
            {"segtune.task", "detection"},
            {"segtune.num_classes", std::to_string(detection_.options.num_classes)},
            {"segtune.min_size", std::to_string(detection_.options.min_size)},
            {"segtune.max_size", std::to_string(detection_.options.max_size)},
            {"segtune.seed", std::to_string(config_.proto.train_config().seed())},
            {"segtune.pipeline_config", config_.text}};
  }
  std::string BestScoreKey() const override { return "segtune.best_box_ap"; }

  std::vector<std::string> TermNames() const override {
    std::vector<std::string> names = kBoxTerms;
    if (masks_) names.push_back("loss_mask");
    return names;
  }
  std::vector<std::string> EvalColumns() const override {
    std::vector<std::string> columns = {"eval_box_ap", "eval_box_ap50"};
    if (masks_) columns.insert(columns.end(), {"eval_mask_ap", "eval_mask_ap50"});
    return columns;
  }

  void SetTrainMode() override { model_->train(); }

  void StartInput(int64_t first, int64_t end, int workers, int prefetch) override {
    Info("training " + detection_.model_name + " (" + std::to_string(detection_.options.num_classes) +
         " classes incl. background, min_size " + std::to_string(detection_.options.min_size) + ", max_size " +
         std::to_string(detection_.options.max_size) + ") on " + std::to_string(train_data_->size()) +
         " records, batch " + std::to_string(train_data_->options().batch_size) + ", steps " + std::to_string(first) +
         " -> " + std::to_string(end));
    loader_ = std::make_unique<OrderedLoader<DetectionBatch>>(
        [this](int64_t b) { return train_data_->MakeBatch(b); }, first, end, workers, prefetch);
  }

  bool NextBatch() override { return loader_->Next(&batch_); }

  void Forward(StepLoss* out) override {
    std::vector<torch::Tensor> images;
    std::vector<DetectionTarget> targets;
    for (const auto& s : batch_.samples) {
      images.push_back(ImageTensor(s.rgb, device_));
      targets.push_back(TargetOf(s, masks_, device_));
    }
    const detection::DetectionOutput o = model_->forward(images, &targets);
    const auto& d = config_.proto.model().detection();
    const std::vector<double> weights = {d.rpn_objectness_loss_weight(), d.rpn_box_loss_weight(),
                                         d.classifier_loss_weight(), d.box_loss_weight(), d.mask_loss_weight()};
    const std::vector<std::string> names = TermNames();
    torch::Tensor total;
    for (size_t t = 0; t < names.size(); ++t) {
      const auto it = o.losses.find(names[t]);
      if (it == o.losses.end()) throw Error("detection model returned no " + names[t]);
      out->terms.push_back(it->second.item<double>());
      const torch::Tensor weighted = weights[t] == 1.0 ? it->second : it->second * weights[t];
      total = total.defined() ? total + weighted : weighted;
    }
    out->loss = total;
    out->images = static_cast<int>(batch_.samples.size());
  }

  double data_wait_seconds() const override { return loader_ ? loader_->wait_seconds() : 0; }

  bool HasEval() const override { return eval_data_ != nullptr; }

  TaskEval Evaluate(int64_t step, EventWriter* events) override {
    const DetectionApResult r = RunEval();
    SetTrainMode();
    TaskEval e;
    e.score = std::max(0.0, r.box.stats[0]);
    e.metrics = {{"box_AP", r.box.stats[0]}, {"box_AP50", r.box.stats[1]}, {"box_AP75", r.box.stats[2]},
                 {"box_AR100", r.box.stats[8]}};
    e.csv_cells = {std::to_string(r.box.stats[0]), std::to_string(r.box.stats[1])};
    e.summary = "eval box AP " + std::to_string(r.box.stats[0]) + ", AP50 " + std::to_string(r.box.stats[1]);
    if (r.mask) {
      e.metrics["mask_AP"] = r.mask->stats[0];
      e.metrics["mask_AP50"] = r.mask->stats[1];
      e.csv_cells.push_back(std::to_string(r.mask->stats[0]));
      e.csv_cells.push_back(std::to_string(r.mask->stats[1]));
      e.summary += ", mask AP " + std::to_string(r.mask->stats[0]) + ", AP50 " + std::to_string(r.mask->stats[1]);
    }
    if (events) {
      for (const auto& [name, value] : e.metrics) events->AddScalar("eval/" + name, value, step);
      for (size_t k = 0; k < r.box.cat_ids.size() && k < r.box.per_class_ap.size(); ++k) {
        if (r.box.per_class_ap[k] >= 0) events->AddScalar("eval/box_AP/" + r.box.cat_names[k], r.box.per_class_ap[k], step);
      }
    }
    return e;
  }

 private:
  void FineTuneFrom(const std::string& path, const std::string& checkpoint_type) {
    if (IsUnconfiguredPath(path)) throw UsageError("train_config.fine_tune_checkpoint still holds TF's placeholder: " + path);
    const LoadReport report = LoadDetectionFineTuneCheckpoint(*model_, detection_.model_name, path, checkpoint_type);
    Info("fine-tuning " + detection_.model_name + " from " + path + ":\n" + report.ToString());
  }

  void ReadDatasets() {
    if (!config_.proto.has_train_input_reader()) throw UsageError("the config has no train_input_reader");
    train_data_ = std::make_unique<DetectionDataset>(
        MakeDetectionDatasetOptions(config_.proto, config_.proto.train_input_reader(), masks_, /*train=*/true));
    if (config_.proto.eval_input_reader_size() > 0) {
      const auto& reader = config_.proto.eval_input_reader(0);
      eval_data_ = std::make_unique<DetectionDataset>(
          MakeDetectionDatasetOptions(config_.proto, reader, masks_, /*train=*/false));
      class_names_ = ClassNames(reader, static_cast<int>(detection_.options.num_classes));
      // Mask R-CNN evaluates masks: records written without them (coco2tfrecord --include-masks) fail
      // here, before training, rather than at the first evaluation.
      if (masks_) eval_data_->LoadSample(0);
    }
  }

  DetectionApResult RunEval() {
    model_->eval();
    torch::NoGradGuard no_grad;
    DetectionEvalAccumulator accumulator(static_cast<int>(detection_.options.num_classes), class_names_, masks_);
    const auto& reader = config_.proto.eval_input_reader(0);
    const int workers = reader.num_workers() > 0 ? static_cast<int>(reader.num_workers()) : std::max(1, threads_);
    OrderedLoader<DetectionBatch> loader([this](int64_t b) { return eval_data_->MakeBatch(b); }, 0,
                                         eval_data_->BatchesPerEpoch(), workers,
                                         static_cast<int>(reader.num_prefetch_batches()));
    DetectionBatch batch;
    while (loader.Next(&batch)) {
      std::vector<torch::Tensor> images;
      for (const auto& s : batch.samples) images.push_back(ImageTensor(s.rgb, device_));
      const detection::DetectionOutput o = model_->forward(images);
      for (size_t k = 0; k < batch.samples.size(); ++k) accumulator.Add(batch.samples[k], o.detections[k]);
    }
    return accumulator.Evaluate(threads_);
  }

  const PipelineConfig& config_;
  torch::Device device_;
  int threads_;
  DetectionConfig detection_;
  bool masks_ = false;
  detection::GeneralizedRCNN model_{nullptr};
  std::vector<std::string> class_names_;
  std::unique_ptr<DetectionDataset> train_data_, eval_data_;
  std::unique_ptr<OrderedLoader<DetectionBatch>> loader_;
  DetectionBatch batch_;
};

}  // namespace

std::unique_ptr<TrainTask> MakeDetectionTask(const TaskContext& context) {
  return std::make_unique<DetectionTask>(context);
}

}  // namespace segtune
