// ParallelFor for the COCO evaluator: dynamic chunks over std::threads, first exception rethrown.
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "segtune/evaluation/coco_eval_internal.h"

namespace segtune::coco_eval_internal {

void ParallelFor(size_t n, int threads, size_t chunk, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  const size_t workers = std::min<size_t>(std::max(1, threads), (n + chunk - 1) / chunk);
  if (workers <= 1) {
    fn(0, n);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      for (size_t b; (b = next.fetch_add(chunk)) < n;) fn(b, std::min(n, b + chunk));
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (size_t i = 1; i < workers; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace segtune::coco_eval_internal
