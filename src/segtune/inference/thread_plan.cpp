#include "segtune/inference/thread_plan.h"

#include <algorithm>
#include <mutex>

#include <dlfcn.h>
#include <omp.h>

#include <opencv2/core.hpp>


namespace segtune {
namespace {

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

}  // namespace

ComputeThreads OpenMpThreads() { return {omp_get_max_threads, omp_set_num_threads}; }

ThreadPlan::ThreadPlan(int threads, int64_t known_items, int batch_size, bool single_worker, ComputeThreads compute)
    : compute_(compute), saved_compute_(compute.get()), saved_cv_(cv::getNumThreads()),
      saved_blas_(OpenBlasThreads()) {
  threads = std::max(1, threads);
  workers_ = single_worker ? 1 : threads;
  if (!single_worker && known_items >= 0) {
    const int64_t jobs = (known_items + batch_size - 1) / batch_size;
    workers_ = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, jobs)));
  }
  per_worker_ = std::max(1, threads / workers_);
  cv::setNumThreads(per_worker_);
  SetOpenBlasThreads(per_worker_);
}

ThreadPlan::~ThreadPlan() {
  compute_.set(saved_compute_);
  cv::setNumThreads(saved_cv_);
  SetOpenBlasThreads(saved_blas_);
}

void ThreadPlan::StartWorker() const {
  static std::mutex mutex;  // at::set_num_threads also resizes a shared thread pool.
  std::lock_guard<std::mutex> lock(mutex);
  compute_.set(per_worker_);
}

}  // namespace segtune
