#include "segtune/inference/detection_inference.h"

#include <torch/torch.h>

#include <chrono>
#include <set>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/inference/decode_item.h"
#include "segtune/inference/detection_overlay.h"
#include "segtune/inference/infer_inputs.h"

namespace segtune {
namespace {

struct Image {
  InferenceItem item;
  std::string problem;  // Non-empty: skipped.
  tensorflow::Example example;
  cv::Mat bgr;
  std::string name;
  std::vector<DetectedObject> objects;
};

// Seconds per stage, for InferenceSummary::stage_seconds.
struct StageSeconds {
  double decode = 0, forward = 0, postprocess = 0, write = 0;
};

class Timer {
 public:
  explicit Timer(double* total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Timer() { *total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  double* total_;
  std::chrono::steady_clock::time_point start_;
};

// Parses the record (or reads the image file into a new Example) and decodes the pixels.
void DecodeImage(Image* im) {
  DecodedItem d = DecodeItem(&im->item);
  im->example = std::move(d.example);
  im->bgr = std::move(d.bgr);
  im->name = std::move(d.name);
  im->problem = std::move(d.problem);
}

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

void Predict(detection::GeneralizedRCNNImpl& model, const torch::Device& device, const std::vector<Image*>& batch) {
  std::vector<torch::Tensor> inputs;
  for (Image* im : batch) inputs.push_back(ToModelInput(im->bgr).to(device));
  c10::InferenceMode inference_mode;
  const detection::DetectionOutput out = model.forward(inputs);
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->objects = ToObjects(out.detections[i]);
}

class Writer {
 public:
  Writer(const InferenceOptions& request, const DetectionBundleMetadata& meta) : request_(request), meta_(meta) {
    if (!request.output.empty()) records_ = std::make_unique<TFRecordWriter>(request.output);
  }

  // Adds the keys, writes the side outputs and the record of one predicted image.
  void Add(Image& im, const DetectionSink& sink) {
    AddDetectionKeys(&im.example, im.objects, im.bgr.rows, im.bgr.cols, meta_.has_masks,
                     request_.discard_image_pixels);
    if (!request_.overlays_dir.empty()) {
      std::vector<uint8_t> jpeg;
      cv::imencode(".jpg", RenderDetectionOverlay(im.bgr, im.objects, meta_.common.class_names), jpeg,
                   {cv::IMWRITE_JPEG_QUALITY, 90});
      WriteFileAtomic(request_.overlays_dir / (im.name + ".jpg"),
                      std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
    }
    if (!request_.coco_results.empty()) {
      for (auto& r : CocoDetectionResults(im.objects, CocoImageId(im.example, im.name))) coco_.push_back(std::move(r));
    }
    if (sink) sink({im.item.source, im.name, &im.example, im.bgr.rows, im.bgr.cols, &im.objects});
    if (records_) records_->Write(im.example.SerializeAsString());
  }

  void Close() {
    if (records_) records_->Close();
    if (!request_.coco_results.empty()) WriteFileAtomic(request_.coco_results, coco_.dump());
  }

 private:
  const InferenceOptions& request_;
  const DetectionBundleMetadata& meta_;
  std::unique_ptr<TFRecordWriter> records_;
  nlohmann::json coco_ = nlohmann::json::array();
};

std::filesystem::path BundleDirOf(const std::filesystem::path& model) {
  if (std::filesystem::is_directory(model)) return model;
  return model.parent_path().empty() ? std::filesystem::path(".") : model.parent_path();
}

}  // namespace

InferenceSummary RunDetectionInference(const InferenceOptions& request, const DetectionSink& sink) {
  DetectionBundle bundle = LoadDetectionBundle(BundleDirOf(request.model));
  return RunDetectionInference(bundle, request, sink);
}

InferenceSummary RunDetectionInference(DetectionBundle& bundle, const InferenceOptions& request,
                                       const DetectionSink& sink) {
  if (request.batch_size < 1) throw UsageError("--batch-size must be >= 1");
  if (!request.masks_dir.empty()) {
    Warn("--masks-dir is for semantic models; a detection model's masks are in the records (" +
         std::string(kDetectionMaskKey) + ") and in --coco-results");
  }
  torch::NoGradGuard no_grad;
  at::set_num_threads(std::max(1, request.threads));
  cv::setNumThreads(std::max(1, request.threads));
  const torch::Device device(request.device);
  bundle.model->to(device);
  bundle.model->eval();

  InferenceSummary summary;
  summary.class_names = bundle.metadata.common.class_names;
  summary.num_classes = bundle.metadata.common.num_classes;
  InferenceInputs inputs(request.inputs, request.skip_unreadable);
  Progress progress("infer", inputs.KnownTotal(), "img");
  Writer writer(request, bundle.metadata);
  StageSeconds seconds;
  std::set<std::string> used_names;
  for (;;) {
    std::vector<Image> chunk;
    InferenceItem item;
    while (chunk.size() < static_cast<size_t>(request.batch_size) && inputs.Next(&item)) {
      chunk.push_back(Image{std::move(item)});
    }
    if (chunk.empty()) break;
    {
      Timer timed(&seconds.decode);
      at::parallel_for(0, static_cast<int64_t>(chunk.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) DecodeImage(&chunk[static_cast<size_t>(i)]);
      });
    }
    std::vector<Image*> ok;
    for (Image& im : chunk) {
      if (!im.problem.empty()) {
        CheckSkippable(request, im.problem);
        Warn("skipped " + im.problem);
        summary.problems.push_back(im.problem);
        ++summary.skipped;
        continue;
      }
      while (!used_names.insert(im.name).second) im.name += "-" + std::to_string(im.item.index);
      ok.push_back(&im);
    }
    if (ok.empty()) continue;
    {
      Timer timed(&seconds.forward);
      // Only same-size images share a pass: padding a smaller image to a batch's size changes its
      // detections (as in torchvision), and results must not depend on what was batched with what.
      for (size_t i = 0; i < ok.size();) {
        std::vector<Image*> batch{ok[i++]};
        while (i < ok.size() && ok[i]->bgr.size() == batch[0]->bgr.size()) batch.push_back(ok[i++]);
        Predict(*bundle.model, device, batch);
      }
    }
    Timer timed(&seconds.postprocess);
    for (Image* im : ok) {
      writer.Add(*im, sink);
      summary.regions += static_cast<int64_t>(im->objects.size());
      ++summary.images;
      progress.Advance();
    }
  }
  progress.Finish();
  for (const auto& p : inputs.problems()) {
    summary.problems.push_back(p);
    ++summary.skipped;
  }
  {
    Timer timed(&seconds.write);
    writer.Close();
  }
  summary.seconds = progress.ElapsedSeconds();
  summary.stage_seconds = {{"decode", seconds.decode},
                           {"forward", seconds.forward},
                           {"postprocess", seconds.postprocess},
                           {"write", seconds.write}};
  return summary;
}

}  // namespace segtune
