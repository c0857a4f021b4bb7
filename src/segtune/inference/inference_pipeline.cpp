#include "segtune/inference/inference_pipeline.h"

#include <algorithm>
#include <deque>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/core/ordered_pool.h"
#include "segtune/core/progress.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/formats/example.h"
#include "segtune/inference/decode_item.h"
#include "segtune/inference/output_finisher.h"
#include "segtune/inference/thread_plan.h"

namespace segtune {
namespace {

// Consecutive input items (one batch) that a worker takes from decoding to serialized output record.
struct Job {
  std::vector<PipelineImage> images;
};

// Cuts the input into jobs of --batch-size items, and near the end into smaller ones, so that the
// workers finish together: with whole batches to the end, one worker ran the last batch alone while
// the other cores idled (~0.2 s of a 3.5 s DeepLabV3 run over 48 records on 2 cores). It reads a
// few jobs' worth of items ahead (not decoded) to see the end coming. Items are taken in input order.
class JobReader {
 public:
  JobReader(InferenceInputs& inputs, size_t batch_size, size_t workers)
      : inputs_(inputs), batch_size_(batch_size), workers_(workers) {}

  // The next job; empty when the inputs are exhausted.
  Job Next() {
    InferenceItem item;
    while (!exhausted_ && ahead_.size() < (workers_ + 1) * batch_size_) {
      if (inputs_.Next(&item)) {
        ahead_.push_back(std::move(item));
      } else {
        exhausted_ = true;
      }
    }
    // Once the rest is known, each job takes at most an equal share of it per worker.
    const size_t share = (ahead_.size() + workers_ - 1) / workers_;
    const size_t count = std::min(ahead_.size(), exhausted_ ? std::min(batch_size_, std::max<size_t>(1, share)) : batch_size_);
    Job job;
    job.images.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      job.images.push_back(PipelineImage{std::move(ahead_.front())});
      ahead_.pop_front();
    }
    return job;
  }

 private:
  InferenceInputs& inputs_;
  const size_t batch_size_, workers_;
  std::deque<InferenceItem> ahead_;
  bool exhausted_ = false;
};

void Decode(PipelineImage* image) {
  DecodedItem d = DecodeItem(&image->item);
  image->example = std::move(d.example);
  image->bgr = std::move(d.bgr);
  image->name = std::move(d.name);
  image->problem = std::move(d.problem);
}

// A worker's whole job: decode, the task, the serialized records.
struct JobRunner {
  const InferenceTask& task;
  const InferenceOptions& options;
  StageClock& clock;

  void operator()(Job& job) const {
    std::vector<PipelineImage*> ok;
    for (auto& image : job.images) {
      {
        StageClock::Scope timed(clock, "decode");
        Decode(&image);
      }
      if (image.problem.empty()) ok.push_back(&image);
    }
    if (ok.empty()) return;
    task.Predict(ok, clock);
    StageClock::Scope timed(clock, "record");
    for (PipelineImage* image : ok) {
      if (options.discard_image_pixels) image->example.mutable_features()->mutable_feature()->erase("image/encoded");
      if (!options.output.empty()) image->record = SerializeExample(image->example);
    }
  }
};

std::vector<std::string> StageNames(const InferenceTask& task) {
  std::vector<std::string> names = {"decode"};
  names.insert(names.end(), task.stages().begin(), task.stages().end());
  names.push_back("record");
  names.push_back("write");
  return names;
}

}  // namespace

InferenceSummary RunInferencePipeline(const InferenceTask& task) {
  const InferenceOptions& options = task.options();
  if (options.batch_size < 1) throw UsageError("--batch-size must be >= 1");
  InferenceSummary summary;
  InferenceInputs inputs(options.inputs, options.skip_unreadable);
  Progress progress("infer", inputs.KnownTotal(), "img");
  StageClock clock(StageNames(task));
  OutputFinisher finisher(options, summary, progress);
  const ThreadPlan plan(options.threads, inputs.KnownTotal(), options.batch_size, task.single_worker(),
                        task.compute_threads());
  // Declared after everything the workers touch: on an exception its destructor joins them first.
  OrderedPool<Job> jobs(plan.workers(), [&plan] { plan.StartWorker(); }, JobRunner{task, options, clock});
  const size_t max_in_flight = 2 * static_cast<size_t>(plan.workers());  // A job ready whenever a worker is.
  JobReader reader(inputs, static_cast<size_t>(options.batch_size), static_cast<size_t>(plan.workers()));
  for (bool more = true;;) {
    while (more && jobs.in_flight() < max_in_flight) {
      Job job = reader.Next();
      more = !job.images.empty();
      if (more) jobs.Submit(std::move(job));
    }
    if (jobs.in_flight() == 0) break;
    Job done = jobs.TakeOldest();
    StageClock::Scope timed(clock, "write");
    for (PipelineImage& image : done.images) finisher.Finish(image);
  }
  progress.Finish();
  for (const auto& p : inputs.problems()) {
    summary.problems.push_back(p);
    ++summary.skipped;
  }
  {
    StageClock::Scope timed(clock, "write");
    finisher.Close();
  }
  summary.seconds = progress.ElapsedSeconds();
  summary.stage_seconds = clock.Seconds();
  return summary;
}

std::vector<std::pair<size_t, size_t>> SameSizeRuns(const std::vector<PipelineImage*>& images) {
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t begin = 0; begin < images.size();) {
    size_t end = begin + 1;
    while (end < images.size() && images[end]->bgr.size() == images[begin]->bgr.size()) ++end;
    runs.emplace_back(begin, end);
    begin = end;
  }
  return runs;
}

std::string EncodeOverlayJpeg(const cv::Mat& overlay) {
  std::vector<uint8_t> jpeg;
  if (!EncodeWithOpenCv(".jpg", overlay, &jpeg, {cv::IMWRITE_JPEG_QUALITY, 90})) throw Error("the overlay's JPEG encoder failed");
  return std::string(jpeg.begin(), jpeg.end());
}

nlohmann::json CocoImageId(const tensorflow::Example& example, const std::string& fallback) {
  std::string id;
  const auto& features = example.features().feature();
  auto it = features.find("image/source_id");
  if (it != features.end() && it->second.bytes_list().value_size() > 0) id = it->second.bytes_list().value(0);
  if (id.empty()) id = fallback;
  // Up to 18 digits always fit int64; longer ids stay strings rather than overflow.
  const bool numeric = !id.empty() && id.size() < 19 && std::all_of(id.begin(), id.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  return numeric ? nlohmann::json(std::stoll(id)) : nlohmann::json(id);
}

}  // namespace segtune
