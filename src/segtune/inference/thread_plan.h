// How `segtune infer` spends --threads: one worker per thread, each running whole batches on one
// core, because whole images in parallel beat one image's operators split over the cores (no barrier
// per operator, and decode and post-processing never contend with the model's threads). When fewer
// batches than threads are known to come, the spare threads go to each worker's operators. A task
// with one model instance that is not thread-safe (a lone .onnx file: one OpenCV DNN network) gets
// one worker with the threads inside it.
#pragma once

#include <cstdint>

namespace segtune {

// How to read and set the calling thread's thread count of the library a model runs in: OpenMP's
// (oneDNN, the LibTorch-free runtime) or LibTorch's (at::get_num_threads, at::set_num_threads).
struct ComputeThreads {
  int (*get)();
  void (*set)(int);
};
ComputeThreads OpenMpThreads();

// Sets the thread counts of the model's library (`compute`), OpenCV and OpenBLAS for
// a run, and restores them when destroyed.
class ThreadPlan {
 public:
  // known_items: the number of inputs when known before reading (image files), else -1.
  // single_worker: the model cannot run on several threads at once (all threads go to one worker).
  ThreadPlan(int threads, int64_t known_items, int batch_size, bool single_worker, ComputeThreads compute);
  ~ThreadPlan();
  ThreadPlan(const ThreadPlan&) = delete;
  ThreadPlan& operator=(const ThreadPlan&) = delete;

  int workers() const { return workers_; }
  // Run at the start of each worker thread: OpenMP's thread count (LibTorch's, oneDNN's) is per thread.
  void StartWorker() const;

 private:
  ComputeThreads compute_;
  int saved_compute_, saved_cv_, saved_blas_;
  int workers_ = 1, per_worker_ = 1;
};

}  // namespace segtune
