#include "segtune/core/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace segtune {
namespace {

// Items per grab from the shared counter: small enough to balance, large enough that the counter is
// not contended when items take microseconds.
constexpr size_t kChunk = 16;

// The failure of the lowest-numbered item seen so far.
class FirstFailure {
 public:
  void Record(size_t item, std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_ || item < item_) item_ = item, error_ = std::move(error);
  }
  void RethrowIfAny() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  size_t item_ = 0;
  std::exception_ptr error_;
};

}  // namespace

void ParallelFor(size_t count, const std::function<void(size_t)>& fn, int threads) {
  if (count == 0) return;
  const size_t cores = threads > 0 ? size_t(threads) : std::max(1u, std::thread::hardware_concurrency());
  const size_t workers = std::min(cores, (count + kChunk - 1) / kChunk);
  std::atomic<size_t> next{0};
  FirstFailure failure;
  auto work = [&] {
    for (size_t start; (start = next.fetch_add(kChunk)) < count;) {
      for (size_t i = start; i < std::min(count, start + kChunk); ++i) {
        try {
          fn(i);
        } catch (...) {
          failure.Record(i, std::current_exception());
        }
      }
    }
  };
  std::vector<std::thread> helpers;
  try {
    for (size_t t = 1; t < workers; ++t) helpers.emplace_back(work);
  } catch (const std::system_error&) {
    // No more threads (a process or system limit): the ones started and the caller share the items.
  }
  work();  // The calling thread is one of the workers.
  for (auto& h : helpers) h.join();
  failure.RethrowIfAny();
}

}  // namespace segtune
