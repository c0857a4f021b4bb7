// Work done on a fixed set of worker threads and handed back in the order it was submitted: the one
// ordered thread pool of segtune (generic C++, no LibTorch or OpenCV). Two shapes use it:
//
//   - OrderedPool: the caller submits jobs and takes them back oldest first. `segtune infer` reads a
//     batch of inputs, submits it, and writes the finished batches in input order
//     (inference/inference_pipeline.h), so outputs never depend on which worker was faster.
//
//       OrderedPool<Batch> pool(threads, [] { /* per-thread setup */ }, [&](Batch& b) { Process(b); });
//       pool.Submit(std::move(batch));   // queued; a free worker picks it up
//       Batch done = pool.TakeOldest();  // waits for the oldest submitted job
//
//   - OrderedLoader: numbered items (training batches) built by make(i) a bounded number ahead of the
//     consumer, i.e. the parallel-decode + prefetch machinery of an input pipeline.
//
//       OrderedLoader<DetectionBatch> loader([&](int64_t i) { return data.MakeBatch(i); }, first, end, 4, 6);
//       DetectionBatch batch;
//       while (loader.Next(&batch)) { ... }
//
//   - ParallelForInOrder: make(i) for every index on `threads` threads, the caller's among them, and
//     consume(i, item) on the calling thread in index order (`coco2tfrecord` builds records on all
//     cores and writes them in input order).
//
//       ParallelForInOrder<std::string>(n, threads, 8, [&](size_t i) { return Build(i); },
//                                       [&](size_t i, std::string& record) { writer.Write(record); });
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace segtune {

template <typename Job>
class OrderedPool {
 public:
  // Starts `workers` (>= 1) threads; each calls `thread_start` (if set) once, then `run` on jobs as
  // they come.
  OrderedPool(int workers, std::function<void()> thread_start, std::function<void(Job&)> run)
      : run_(std::move(run)) {
    for (int i = 0; i < std::max(1, workers); ++i) {
      threads_.emplace_back([this, thread_start] {
        if (thread_start) thread_start();
        WorkerLoop();
      });
    }
  }

  // Jobs not started are dropped, running ones complete, then the threads are joined.
  ~OrderedPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      queue_.clear();
    }
    work_ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

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

  // Waits until the oldest submitted job has run and returns it; rethrows what `run` threw for it
  // (so an error surfaces at its job's turn, after every earlier job). Requires in_flight() > 0.
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

// Items make(first), make(first + 1), ... up to `end` (exclusive; -1 = endless), built on an
// OrderedPool of `workers` threads at most `prefetch` items ahead of the consumer (so memory stays
// bounded however slow the consumer is) and handed out in order. `make` must be safe to call
// concurrently; Item must be default-constructible.
template <typename Item>
class OrderedLoader {
 public:
  OrderedLoader(std::function<Item(int64_t)> make, int64_t first, int64_t end, int workers, int prefetch)
      : next_(first), end_(end), prefetch_(static_cast<size_t>(std::max(1, prefetch))),
        pool_(workers, {}, [make = std::move(make)](Numbered& n) { n.item = make(n.index); }) {
    Refill();
  }

  // The next item in order; false when `end` is reached. Rethrows what make() threw for this item.
  bool Next(Item* item) {
    if (pool_.in_flight() == 0) return false;
    const auto start = std::chrono::steady_clock::now();
    *item = std::move(pool_.TakeOldest().item);
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Refill();  // Keep the workers busy while the consumer uses this item.
    return true;
  }

  // Seconds the consumer spent waiting in Next() so far (data-wait time).
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Numbered {
    int64_t index = 0;
    Item item;
  };

  void Refill() {
    while (pool_.in_flight() < prefetch_ && (end_ < 0 || next_ < end_)) pool_.Submit(Numbered{next_++, Item{}});
  }

  int64_t next_;  // The next index to submit.
  int64_t end_;
  size_t prefetch_;
  double wait_seconds_ = 0;
  OrderedPool<Numbered> pool_;  // Last: destroyed (threads joined) before the rest.
};

// Calls make(i) for i in [0, count) on `threads` threads, and consume(i, item) on the calling thread
// in order of i. The calling thread is one of the `threads`: it builds items instead of sleeping
// while the next one in order is not ready. A consumer that only waited cost coco2tfrecord 8,569
// futex calls for 5,000 images (46 now); its run took 16% less (0.2475 -> 0.2070 s on 2 cores).
// At most `window` items are built ahead of the one consumed, so memory stays bounded. An exception
// from make(i) is rethrown at i's turn (after consume of every earlier item); one from consume stops
// the work. Either way the threads are joined first.
template <typename Item>
void ParallelForInOrder(size_t count, int threads, size_t window, const std::function<Item(size_t)>& make,
                        const std::function<void(size_t, Item&)>& consume) {
  struct Result {
    bool done = false;
    Item item{};
    std::exception_ptr error;
  };
  struct Shared {
    std::mutex mutex;
    std::condition_variable consumer_wakes, worker_wakes;
    std::vector<Result> slots;  // Item i in slots[i % window] while taken <= i < taken + window.
    size_t next = 0;            // The next index to build.
    size_t taken = 0;           // Items handed to consume so far.
    bool stop = false;
    bool consumer_waiting = false;
    int workers_waiting = 0;
  } shared;
  window = std::max<size_t>(1, window);
  shared.slots.resize(window);
  const auto slot = [&](size_t i) -> Result& { return shared.slots[i % window]; };
  // Builds item i outside the lock (only this thread touches its slot until it is marked done).
  const auto build = [&](size_t i, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    Result& r = slot(i);
    try {
      r.item = make(i);
    } catch (...) {
      r.error = std::current_exception();
    }
    lock.lock();
    r.done = true;
  };
  const auto may_claim = [&] { return shared.next < count && shared.next < shared.taken + window; };

  struct Joiner {  // Declared after `shared`: stops and joins the workers before it goes away.
    Shared& shared;
    std::vector<std::thread> threads;
    ~Joiner() {
      {
        std::lock_guard<std::mutex> lock(shared.mutex);
        shared.stop = true;
      }
      shared.worker_wakes.notify_all();
      for (auto& t : threads) t.join();
    }
  } workers{shared, {}};
  for (int t = 1; t < threads; ++t) {
    workers.threads.emplace_back([&] {
      std::unique_lock<std::mutex> lock(shared.mutex);
      for (;;) {
        while (!shared.stop && shared.next < count && !may_claim()) {
          ++shared.workers_waiting;
          shared.worker_wakes.wait(lock);
          --shared.workers_waiting;
        }
        if (shared.stop || shared.next >= count) return;
        const size_t i = shared.next++;
        build(i, lock);
        if (shared.consumer_waiting && i == shared.taken) shared.consumer_wakes.notify_one();
      }
    });
  }
  for (size_t i = 0; i < count; ++i) {
    Result result;
    {
      std::unique_lock<std::mutex> lock(shared.mutex);
      while (!slot(i).done) {
        if (may_claim()) {
          build(shared.next++, lock);
          continue;
        }
        shared.consumer_waiting = true;
        shared.consumer_wakes.wait(lock);
        shared.consumer_waiting = false;
      }
      result = std::move(slot(i));
      slot(i) = Result{};
      shared.taken = i + 1;
      if (shared.workers_waiting > 0) shared.worker_wakes.notify_one();
    }
    if (result.error) std::rethrow_exception(result.error);
    consume(i, result.item);
  }
}

}  // namespace segtune
