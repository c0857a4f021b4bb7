// Builds numbered items (batches) on worker threads, a bounded number ahead of the consumer, and hands
// them out in order: the parallel-decode + prefetch machinery of an input pipeline, for any batch type.
//
//   OrderedLoader<DetectionBatch> loader([&](int64_t i) { return data.MakeBatch(i); }, first, end, 4, 6);
//   DetectionBatch batch;
//   while (loader.Next(&batch)) { ... }
//
// (BatchLoader in data/semantic_dataset.h is this for SemanticBatch.)
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace segtune {

template <typename Batch>
class OrderedLoader {
 public:
  // Builds make(first), make(first+1), ... up to `end` (exclusive; -1 = endless) on `workers` threads,
  // at most `prefetch` items ahead of the consumer. `make` must be safe to call concurrently.
  OrderedLoader(std::function<Batch(int64_t)> make, int64_t first, int64_t end, int workers, int prefetch)
      : make_(std::move(make)), end_(end), prefetch_(std::max(1, prefetch)), next_to_build_(first),
        next_to_return_(first) {
    for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { Work(); });
  }
  ~OrderedLoader() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }
  OrderedLoader(const OrderedLoader&) = delete;
  OrderedLoader& operator=(const OrderedLoader&) = delete;

  // The next item in order; false when `end` is reached. Rethrows the first error of a worker.
  bool Next(Batch* batch) {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    if (end_ >= 0 && next_to_return_ >= end_) return false;
    ready_.wait(lock, [this] { return error_ || done_.count(next_to_return_) > 0; });
    if (error_) std::rethrow_exception(error_);
    auto it = done_.find(next_to_return_);
    *batch = std::move(it->second);
    done_.erase(it);
    ++next_to_return_;
    lock.unlock();
    space_.notify_all();
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return true;
  }

  // Seconds the consumer spent waiting in Next() so far (data-wait time).
  double wait_seconds() const { return wait_seconds_; }

 private:
  void Work() {
    for (;;) {
      int64_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_.wait(lock, [this] { return stop_ || next_to_build_ < next_to_return_ + prefetch_; });
        if (stop_ || (end_ >= 0 && next_to_build_ >= end_)) return;
        index = next_to_build_++;
      }
      try {
        Batch batch = make_(index);
        std::lock_guard<std::mutex> lock(mutex_);
        done_[index] = std::move(batch);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        stop_ = true;
      }
      ready_.notify_all();
      space_.notify_all();
    }
  }

  std::function<Batch(int64_t)> make_;
  int64_t end_;
  int prefetch_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::map<int64_t, Batch> done_;
  int64_t next_to_build_;
  int64_t next_to_return_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
  double wait_seconds_ = 0;
};

}  // namespace segtune
