// Jobs run on a fixed set of worker threads and handed back in submission order: the shape of
// `segtune infer` (the calling thread reads inputs and writes outputs in order; each worker takes a
// whole job — decode, model, post-processing — so the cores never wait on each other mid-job).
//
//   OrderedJobs<Batch> jobs(threads, [] { /* per-thread setup */ }, [&](Batch& b) { Process(b); });
//   jobs.Submit(std::move(batch));          // queued; a free worker picks it up
//   Batch done = jobs.TakeOldest();         // waits for the oldest submitted job
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace segtune {

template <typename Job>
class OrderedJobs {
 public:
  // Starts `workers` (>= 1) threads; each calls `thread_start` once, then `run` on jobs as they come.
  OrderedJobs(int workers, std::function<void()> thread_start, std::function<void(Job&)> run)
      : run_(std::move(run)) {
    for (int i = 0; i < std::max(1, workers); ++i) {
      threads_.emplace_back([this, thread_start] {
        if (thread_start) thread_start();
        WorkerLoop();
      });
    }
  }

  // Jobs not started are dropped, running ones complete, then the threads are joined.
  ~OrderedJobs() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      queue_.clear();
    }
    work_ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

  OrderedJobs(const OrderedJobs&) = delete;
  OrderedJobs& operator=(const OrderedJobs&) = delete;

  void Submit(Job job) {
    auto slot = std::make_shared<Slot>();
    slot->job = std::move(job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      order_.push_back(slot);
      queue_.push_back(slot);
    }
    work_ready_.notify_one();
  }

  // Submitted and not yet taken back.
  size_t in_flight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return order_.size();
  }

  // Waits until the oldest submitted job has run and returns it; rethrows what `run` threw for it.
  // Requires in_flight() > 0.
  Job TakeOldest() {
    std::unique_lock<std::mutex> lock(mutex_);
    job_done_.wait(lock, [&] { return order_.front()->done; });
    std::shared_ptr<Slot> slot = std::move(order_.front());
    order_.pop_front();
    lock.unlock();
    if (slot->error) std::rethrow_exception(slot->error);
    return std::move(slot->job);
  }

 private:
  struct Slot {
    Job job;
    bool done = false;
    std::exception_ptr error;
  };

  void WorkerLoop() {
    for (;;) {
      std::shared_ptr<Slot> slot;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        slot = std::move(queue_.front());
        queue_.pop_front();
      }
      try {
        run_(slot->job);
      } catch (...) {
        slot->error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        slot->done = true;
      }
      job_done_.notify_all();
    }
  }

  std::function<void(Job&)> run_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_, job_done_;
  std::deque<std::shared_ptr<Slot>> order_;  // In flight, in submission order.
  std::deque<std::shared_ptr<Slot>> queue_;  // Not started yet.
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace segtune
