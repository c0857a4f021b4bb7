#include "segtune/inference/semantic_inference.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include <dlfcn.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/inference/decode_item.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/export/prepare_inference.h"
#include "segtune/inference/class_argmax.h"
#include "segtune/inference/detection_inference.h"
#include "segtune/inference/infer_inputs.h"
#include "segtune/inference/ordered_jobs.h"
#include "segtune/inference/predict_overlay.h"
#include "segtune/inference/predict_regions.h"

namespace segtune {

InferenceModel LoadInferenceModel(const std::filesystem::path& path) {
  InferenceModel model;
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

// Thread-seconds per pipeline stage (InferenceSummary::stage_seconds).
enum Stage { kDecode, kNormalize, kForward, kArgmax, kRegions, kPng, kOverlay, kRecord, kWrite, kStageCount };
constexpr const char* kStageNames[kStageCount] = {"decode", "normalize", "forward", "argmax", "regions",
                                                  "png",    "overlay",   "record",  "write"};

class StageClock {
 public:
  class Scope {
   public:
    Scope(StageClock& clock, Stage stage) : clock_(clock), stage_(stage), start_(std::chrono::steady_clock::now()) {}
    ~Scope() {
      clock_.nanos_[stage_] += std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now() - start_).count();
    }

   private:
    StageClock& clock_;
    Stage stage_;
    std::chrono::steady_clock::time_point start_;
  };

  std::vector<std::pair<std::string, double>> Seconds() const {
    std::vector<std::pair<std::string, double>> seconds;
    for (int s = 0; s < kStageCount; ++s) seconds.emplace_back(kStageNames[s], nanos_[s].load() * 1e-9);
    return seconds;
  }

 private:
  std::array<std::atomic<int64_t>, kStageCount> nanos_{};
};

struct Work {
  InferenceItem item;
  std::string problem;  // Non-empty: skipped.
  tensorflow::Example example;
  cv::Mat image;        // BGR.
  std::string name;     // Made unique (in input order) when the job is finished.
  cv::Mat class_map, probability;
  std::string png;      // Class map PNG (the record's and the masks file's bytes).
  std::string overlay_jpeg;
  std::string serialized;  // Output record.
  std::vector<PredictedRegion> regions;
};

// Consecutive input items (one batch) that a worker takes from decoding to serialized output record.
struct Job {
  std::vector<Work> works;
};

void Decode(Work* w) {
  DecodedItem d = DecodeItem(&w->item);
  w->example = std::move(d.example);
  w->image = std::move(d.bgr);
  w->name = std::move(d.name);
  w->problem = std::move(d.problem);
}

// The next `count` items (fewer at the end; none when the inputs are exhausted), not yet decoded.
Job ReadJob(InferenceInputs& inputs, size_t count) {
  Job job;
  InferenceItem item;
  while (job.works.size() < count && inputs.Next(&item)) job.works.push_back(Work{std::move(item)});
  return job;
}

// BGR uint8 images -> the model's input: float [N, 3, H, W] in channels-last memory (what the
// channels-last model wants), RGB, (x / 255 - mean) / std — the same float operations as the
// reference preprocessing, fused in one pass over the decoded pixels.
torch::Tensor NormalizedBatch(const std::vector<Work*>& batch, const SemanticBundleMetadata& meta) {
  const int64_t n = static_cast<int64_t>(batch.size());
  const int h = batch[0]->image.rows, w = batch[0]->image.cols;
  torch::Tensor x = torch::empty({n, 3, h, w}, torch::TensorOptions().dtype(torch::kFloat).memory_format(
                                                   torch::MemoryFormat::ChannelsLast));
  float* out = x.data_ptr<float>();  // NHWC order in memory.
  const float mean[3] = {meta.mean[0], meta.mean[1], meta.mean[2]};
  const float stdev[3] = {meta.std[0], meta.std[1], meta.std[2]};
  at::parallel_for(0, n * h, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const uint8_t* src = batch[row / h]->image.ptr<uint8_t>(static_cast<int>(row % h));
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
void ArgmaxInto(const torch::Tensor& logits, const std::vector<Work*>& batch) {
  for (size_t k = 0; k < batch.size(); ++k) {
    Work& work = *batch[k];
    const int h = work.image.rows, w = work.image.cols;
    work.class_map.create(h, w, CV_8UC1);
    work.probability.create(h, w, CV_32FC1);
    const torch::Tensor image_logits = logits[static_cast<int64_t>(k)];
    const LogitsView view{image_logits.data_ptr<float>(), image_logits.size(0),   image_logits.size(1),
                          image_logits.size(2),           image_logits.stride(0), image_logits.stride(1),
                          image_logits.stride(2)};
    at::parallel_for(0, h, 16, [&](int64_t begin, int64_t end) {
      ResizedClassArgmax(view, h, w, begin, end, work.class_map.data, work.probability.ptr<float>());
    });
  }
}

// Predicts a batch of same-size images with the LibTorch model: fills class_map and probability.
void PredictBatch(SemanticModelImpl& model, const SemanticBundleMetadata& meta, const torch::Device& device,
                  const std::vector<Work*>& batch, StageClock& clock) {
  torch::Tensor x;
  {
    StageClock::Scope timed(clock, kNormalize);
    x = NormalizedBatch(batch, meta).to(device);
  }
  torch::Tensor logits;
  {
    StageClock::Scope timed(clock, kForward);
    logits = HeadLogits(model, x).to(torch::kCPU);  // Small: 1/8 or 1/16 of the image's size.
  }
  StageClock::Scope timed(clock, kArgmax);
  ArgmaxInto(logits, batch);
}

struct SideOutputs {
  const InferenceOptions& request;
  const std::vector<std::string>& names;
  int64_t num_classes;
};

void AddPredictionKeys(Work* w, std::string png, int64_t num_classes, bool discard_pixels) {
  const cv::Mat& map = w->class_map;
  SetBytes(&w->example, "image/segmentation/class/predicted", std::move(png));
  SetBytes(&w->example, "image/segmentation/class/predicted/format", "png");
  SetFloatList(&w->example, "image/segmentation/class/fraction", ClassFractions(map, static_cast<int>(num_classes)));
  std::vector<float> ymin, xmin, ymax, xmax, score;
  std::vector<int64_t> label;
  for (const auto& r : w->regions) {
    ymin.push_back(static_cast<float>(r.y) / map.rows);
    xmin.push_back(static_cast<float>(r.x) / map.cols);
    ymax.push_back(static_cast<float>(r.y + r.height) / map.rows);
    xmax.push_back(static_cast<float>(r.x + r.width) / map.cols);
    score.push_back(r.score);
    label.push_back(r.label);
  }
  SetFloatList(&w->example, "image/detection/bbox/ymin", ymin);
  SetFloatList(&w->example, "image/detection/bbox/xmin", xmin);
  SetFloatList(&w->example, "image/detection/bbox/ymax", ymax);
  SetFloatList(&w->example, "image/detection/bbox/xmax", xmax);
  SetFloatList(&w->example, "image/detection/score", score);
  SetInt64List(&w->example, "image/detection/label", label);
  if (discard_pixels) w->example.mutable_features()->mutable_feature()->erase("image/encoded");
}

// Everything after the model that does not depend on the other images: regions, PNG, overlay,
// output record.
void PostProcess(Work* w, const SideOutputs& out, StageClock& clock) {
  const InferenceOptions& req = out.request;
  {
    StageClock::Scope timed(clock, kRegions);
    w->regions = FindPredictedRegions(w->class_map, w->probability, static_cast<int>(out.num_classes), 1,
                                      !req.coco_results.empty());
  }
  {
    StageClock::Scope timed(clock, kPng);  // Encoded once: the mask file and the record share it.
    w->png = EncodeGrayPng(w->class_map.data, w->class_map.rows, w->class_map.cols);
  }
  if (!req.overlays_dir.empty()) {
    StageClock::Scope timed(clock, kOverlay);
    std::vector<uint8_t> jpeg;
    cv::imencode(".jpg", RenderOverlay(w->image, w->class_map, out.names), jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    w->overlay_jpeg.assign(jpeg.begin(), jpeg.end());
  }
  StageClock::Scope timed(clock, kRecord);
  AddPredictionKeys(w, w->png, out.num_classes, req.discard_image_pixels);
  if (!req.output.empty()) w->serialized = w->example.SerializeAsString();
}

nlohmann::json CocoResults(const Work& w) {
  nlohmann::json results = nlohmann::json::array();
  std::string source_id;
  auto it = w.example.features().feature().find("image/source_id");
  if (it != w.example.features().feature().end() && it->second.bytes_list().value_size() > 0) {
    source_id = it->second.bytes_list().value(0);
  }
  if (source_id.empty()) source_id = w.name;
  const bool numeric = !source_id.empty() && source_id.size() < 18 &&
                       std::all_of(source_id.begin(), source_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  for (const auto& r : w.regions) {
    nlohmann::json d;
    if (numeric) {
      d["image_id"] = std::stoll(source_id);
    } else {
      d["image_id"] = source_id;
    }
    d["category_id"] = r.label;
    d["bbox"] = {r.x, r.y, r.width, r.height};
    d["score"] = r.score;
    d["segmentation"] = {{"size", {w.class_map.rows, w.class_map.cols}}, {"counts", r.rle}};
    results.push_back(std::move(d));
  }
  return results;
}

// The in-order end of the pipeline, on the calling thread: unique names, side-output files, sink,
// output records, COCO results, summary.
class JobFinisher {
 public:
  JobFinisher(const InferenceOptions& request, const PredictionSink& sink, StageClock& clock,
              InferenceSummary& summary, Progress& progress)
      : request_(request), sink_(sink), clock_(clock), summary_(summary), progress_(progress) {
    if (!request.output.empty()) writer_ = std::make_unique<TFRecordWriter>(request.output);
  }

  void Finish(Job& job) {
    StageClock::Scope timed(clock_, kWrite);
    for (auto& w : job.works) {
      if (!w.problem.empty()) {
        CheckSkippable(request_, w.problem);
        Warn("skipped " + w.problem);
        summary_.problems.push_back(w.problem);
        ++summary_.skipped;
        continue;
      }
      while (!used_names_.insert(w.name).second) w.name += "-" + std::to_string(w.item.index);
      if (!request_.masks_dir.empty()) WriteFileAtomic(request_.masks_dir / (w.name + ".png"), w.png);
      if (!request_.overlays_dir.empty()) WriteFileAtomic(request_.overlays_dir / (w.name + ".jpg"), w.overlay_jpeg);
      if (sink_) sink_({w.item.source, w.name, &w.example, w.image, w.class_map, w.probability});
      if (writer_) writer_->Write(w.serialized);
      if (!request_.coco_results.empty()) {
        for (auto& d : CocoResults(w)) coco_.push_back(std::move(d));
      }
      summary_.regions += static_cast<int64_t>(w.regions.size());
      ++summary_.images;
      progress_.Advance();
    }
  }

  void Close() {
    if (writer_) writer_->Close();
    if (!request_.coco_results.empty()) WriteFileAtomic(request_.coco_results, coco_.dump());
  }

 private:
  const InferenceOptions& request_;
  const PredictionSink& sink_;
  StageClock& clock_;
  InferenceSummary& summary_;
  Progress& progress_;
  std::unique_ptr<TFRecordWriter> writer_;
  std::set<std::string> used_names_;
  nlohmann::json coco_ = nlohmann::json::array();
};

// A worker's whole job: decode, model (consecutive same-size images batched), post-processing.
struct JobRunner {
  InferenceModel& model;
  const torch::Device& device;
  const SideOutputs& side;
  StageClock& clock;

  void operator()(Job& job) const {
    c10::InferenceMode inference_mode;
    std::vector<Work*> ok;
    for (auto& w : job.works) {
      {
        StageClock::Scope timed(clock, kDecode);
        Decode(&w);
      }
      if (w.problem.empty()) ok.push_back(&w);
    }
    Predict(ok);
    for (Work* w : ok) PostProcess(w, side, clock);
  }

  void Predict(const std::vector<Work*>& ok) const {
    if (model.onnx) {
      StageClock::Scope timed(clock, kForward);  // OpenCV DNN: forward and argmax per image.
      for (Work* w : ok) PredictOnnx(*model.onnx, w->image, &w->class_map, &w->probability);
      return;
    }
    for (size_t i = 0; i < ok.size();) {
      std::vector<Work*> batch{ok[i++]};
      while (i < ok.size() && batch[0]->image.size() == ok[i]->image.size()) batch.push_back(ok[i++]);
      PredictBatch(*model.bundle.model, model.bundle.metadata, device, batch, clock);
    }
  }
};

// OpenBLAS's thread count, when LibTorch's BLAS is OpenBLAS (Debian's libopenblas0-pthread); -1 if not.
// LibTorch runs 1x1 convolutions at one thread through BLAS, whose own thread pool at::set_num_threads
// does not reach: left at all cores, the workers' concurrent calls would queue on one another (the
// threaded gemm driver holds a process-wide mutex, level3_lock in OpenBLAS's level3_thread.c) and its
// idle threads spin in sched_yield (seen in perf).
int OpenBlasThreads() {
  auto* get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : -1;
}
void SetOpenBlasThreads(int threads) {
  auto* set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set && threads > 0) set(threads);
}

// Thread settings for a run, restored afterwards. LibTorch models: one worker per --threads, each
// running its jobs on one core (whole images in parallel beat one image's convolutions split over
// the cores: no barrier per operator, and decode and post-processing never contend with the model's
// threads). When fewer jobs than threads are known to come, the spare threads go to each worker's
// operators. A lone .onnx file has one OpenCV DNN network: one worker, its threads inside.
class ThreadPlan {
 public:
  ThreadPlan(int threads, int64_t known_items, int batch_size, bool onnx)
      : saved_torch_(at::get_num_threads()), saved_cv_(cv::getNumThreads()), saved_blas_(OpenBlasThreads()) {
    threads = std::max(1, threads);
    workers_ = onnx ? 1 : threads;
    if (!onnx && known_items >= 0) {
      const int64_t jobs = (known_items + batch_size - 1) / batch_size;
      workers_ = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, jobs)));
    }
    per_worker_ = std::max(1, threads / workers_);
    cv::setNumThreads(per_worker_);
    SetOpenBlasThreads(per_worker_);
  }
  ~ThreadPlan() {
    at::set_num_threads(saved_torch_);
    cv::setNumThreads(saved_cv_);
    SetOpenBlasThreads(saved_blas_);
  }

  int workers() const { return workers_; }
  // Run at the start of each worker thread: LibTorch's thread count is per thread under OpenMP.
  void StartWorker() const {
    static std::mutex mutex;  // at::set_num_threads also resizes a shared thread pool.
    std::lock_guard<std::mutex> lock(mutex);
    at::set_num_threads(per_worker_);
  }

 private:
  int saved_torch_, saved_cv_, saved_blas_;
  int workers_ = 1, per_worker_ = 1;
};

}  // namespace

InferenceSummary RunInference(const InferenceOptions& request, const PredictionSink& sink) {
  CheckInferenceOutputs(request);
  if (IsDetectionBundle(request.model)) return RunDetectionInference(request);  // Boxes, not class maps: no sink.
  InferenceModel model = LoadInferenceModel(request.model);
  return RunInference(model, request, sink);
}

InferenceSummary RunInference(InferenceModel& model, const InferenceOptions& request, const PredictionSink& sink) {
  if (request.batch_size < 1) throw UsageError("--batch-size must be >= 1");
  torch::NoGradGuard no_grad;
  const torch::Device device(request.device);
  if (model.bundle.model) {
    PrepareForInference(*model.bundle.model, device);  // Folded BN, channels-last on CPU, no grad.
  } else if (!device.is_cpu()) {
    throw UsageError("--device " + request.device + ": a lone .onnx file runs on the CPU (OpenCV DNN)");
  }

  InferenceSummary summary;
  summary.class_names = model.class_names;
  summary.num_classes = model.num_classes;
  InferenceInputs inputs(request.inputs, request.skip_unreadable);
  const SideOutputs side{request, model.class_names, model.num_classes};
  Progress progress("infer", inputs.KnownTotal(), "img");
  StageClock clock;
  JobFinisher finisher(request, sink, clock, summary, progress);
  const ThreadPlan plan(request.threads, inputs.KnownTotal(), request.batch_size, model.onnx != nullptr);
  // Declared after everything the workers touch: on an exception its destructor joins them first.
  OrderedJobs<Job> jobs(plan.workers(), [&plan] { plan.StartWorker(); }, JobRunner{model, device, side, clock});
  const size_t max_in_flight = 2 * static_cast<size_t>(plan.workers());  // A job ready whenever a worker is.
  for (bool more = true;;) {
    while (more && jobs.in_flight() < max_in_flight) {
      Job job = ReadJob(inputs, static_cast<size_t>(request.batch_size));
      more = !job.works.empty();
      if (more) jobs.Submit(std::move(job));
    }
    if (jobs.in_flight() == 0) break;
    Job done = jobs.TakeOldest();
    finisher.Finish(done);
  }
  progress.Finish();
  for (const auto& p : inputs.problems()) {
    summary.problems.push_back(p);
    ++summary.skipped;
  }
  finisher.Close();
  summary.seconds = progress.ElapsedSeconds();
  summary.stage_seconds = clock.Seconds();
  return summary;
}

std::string FormatInferenceProblems(const InferenceSummary& summary) {
  if (summary.problems.empty()) return "";
  std::string text = "skipped " + std::to_string(summary.skipped) + " unreadable item(s):\n";
  for (const auto& p : summary.problems) text += "  " + p + "\n";
  return text;
}

std::string FormatStageSeconds(const InferenceSummary& summary) {
  std::string text;
  char part[64];
  for (const auto& [stage, seconds] : summary.stage_seconds) {
    std::snprintf(part, sizeof part, "%s%s %.2f s", text.empty() ? "" : ", ", stage.c_str(), seconds);
    text += part;
  }
  return text;
}

}  // namespace segtune
