#include "segtune/inference/inference_pipeline.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/error.h"
#include "segtune/core/ordered_pool.h"
#include "segtune/core/progress.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/inference/decode_item.h"
#include "segtune/inference/output_finisher.h"
#include "segtune/inference/thread_plan.h"

namespace segtune {
namespace {

// Consecutive input items (one batch) that a worker takes from decoding to serialized output record.
struct Job {
  std::vector<PipelineImage> images;
};

// The next `count` items (fewer at the end; none when the inputs are exhausted), not yet decoded.
Job ReadJob(InferenceInputs& inputs, size_t count) {
  Job job;
  InferenceItem item;
  while (job.images.size() < count && inputs.Next(&item)) job.images.push_back(PipelineImage{std::move(item)});
  return job;
}

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
      if (!options.output.empty()) image->record = image->example.SerializeAsString();
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
  const ThreadPlan plan(options.threads, inputs.KnownTotal(), options.batch_size, task.single_worker());
  // Declared after everything the workers touch: on an exception its destructor joins them first.
  OrderedPool<Job> jobs(plan.workers(), [&plan] { plan.StartWorker(); }, JobRunner{task, options, clock});
  const size_t max_in_flight = 2 * static_cast<size_t>(plan.workers());  // A job ready whenever a worker is.
  for (bool more = true;;) {
    while (more && jobs.in_flight() < max_in_flight) {
      Job job = ReadJob(inputs, static_cast<size_t>(options.batch_size));
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
