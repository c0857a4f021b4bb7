#include "segtune/core/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

TEST(ParallelFor, RunsEveryItemExactlyOnce) {
  for (const size_t count : {size_t(0), size_t(1), size_t(15), size_t(16), size_t(17), size_t(10007)}) {
    std::vector<std::atomic<int>> runs(count);
    segtune::ParallelFor(count, [&](size_t i) { runs[i]++; }, 4);
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(runs[i].load(), 1) << "item " << i << " of " << count;
  }
}

TEST(ParallelFor, UsesSeveralThreadsWhenThereIsEnoughWork) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  segtune::ParallelFor(4096, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));  // Long enough for every worker to start.
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  }, 3);
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u);  // The caller works too.
}

TEST(ParallelFor, OneThreadRunsInOrderOnTheCaller) {
  std::vector<size_t> order;
  const std::thread::id caller = std::this_thread::get_id();
  segtune::ParallelFor(100, [&](size_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  }, 1);
  ASSERT_EQ(order.size(), 100u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
}

// Whatever thread fails first in time, the error of the lowest-numbered failing item is rethrown,
// after every item has run.
TEST(ParallelFor, RethrowsTheLowestNumberedFailureAfterAllItems) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::atomic<int> ran{0};
    try {
      segtune::ParallelFor(5000, [&](size_t i) {
        ran++;
        if (i == 4990 || i == 2501 || i == 2500 + 17 * size_t(attempt)) throw std::runtime_error(std::to_string(i));
      }, 2);
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      const size_t lowest = std::min<size_t>(2501, 2500 + 17 * size_t(attempt));
      EXPECT_EQ(std::string(e.what()), std::to_string(lowest));
    }
    EXPECT_EQ(ran.load(), 5000);
  }
}

}  // namespace
