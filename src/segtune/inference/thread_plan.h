// How `segtune infer` spends --threads: one worker per thread, each running whole batches on one
// core, because whole images in parallel beat one image's operators split over the cores (no barrier
// per operator, and decode and post-processing never contend with the model's threads). When fewer
// batches than threads are known to come, the spare threads go to each worker's operators. A task
// with one model instance that is not thread-safe (a lone .onnx file: one OpenCV DNN network) gets
// one worker with the threads inside it.
#pragma once

#include <cstdint>

namespace segtune {

class InferenceTask;

// Sets the thread counts of the model's library (the task's ComputeThreads), OpenCV and OpenBLAS for
// a run, and restores them when destroyed.
class ThreadPlan {
 public:
  // known_items: the number of inputs when known before reading (image files), else -1.
  ThreadPlan(int threads, int64_t known_items, int batch_size, const InferenceTask& task);
  ~ThreadPlan();
  ThreadPlan(const ThreadPlan&) = delete;
  ThreadPlan& operator=(const ThreadPlan&) = delete;

  int workers() const { return workers_; }
  // Run at the start of each worker thread: OpenMP's thread count (LibTorch's, oneDNN's) is per thread.
  void StartWorker() const;

 private:
  const InferenceTask& task_;
  int saved_compute_, saved_cv_, saved_blas_;
  int workers_ = 1, per_worker_ = 1;
};

}  // namespace segtune
