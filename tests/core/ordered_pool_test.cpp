// core/ordered_pool.h: jobs come back in submission order whatever order the workers finish them in;
// a job's error surfaces at its turn; the loader stays within its prefetch bound and builds each
// index once.
#include "segtune/core/ordered_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace segtune {
namespace {

struct Job {
  int index = 0;
  int result = 0;
};

TEST(OrderedPool, HandsJobsBackInSubmissionOrderWhenLaterOnesFinishFirst) {
  std::atomic<int> started_threads{0};
  OrderedPool<Job> pool(3, [&] { ++started_threads; }, [](Job& job) {
    // Early jobs take longest, so the workers finish them last.
    std::this_thread::sleep_for(std::chrono::milliseconds(job.index < 3 ? 30 - 10 * job.index : 0));
    job.result = job.index * job.index;
  });
  for (int i = 0; i < 8; ++i) pool.Submit(Job{i});
  EXPECT_EQ(pool.in_flight(), 8u);
  for (int i = 0; i < 8; ++i) {
    const Job done = pool.TakeOldest();
    EXPECT_EQ(done.index, i);
    EXPECT_EQ(done.result, i * i);
  }
  EXPECT_EQ(pool.in_flight(), 0u);
  EXPECT_EQ(started_threads.load(), 3);
}

TEST(OrderedPool, AJobsErrorIsRethrownAtItsTurnAfterTheEarlierJobs) {
  OrderedPool<Job> pool(2, {}, [](Job& job) {
    if (job.index == 1) throw std::runtime_error("job 1 failed");
    job.result = 1;
  });
  for (int i = 0; i < 3; ++i) pool.Submit(Job{i});
  EXPECT_EQ(pool.TakeOldest().result, 1);
  try {
    pool.TakeOldest();
    FAIL() << "expected the error of job 1";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "job 1 failed");
  }
  EXPECT_EQ(pool.TakeOldest().index, 2);  // Later jobs are unaffected.
}

TEST(OrderedPool, DestroyingWithJobsQueuedDropsThemAndJoins) {
  std::atomic<int> ran{0};
  {
    OrderedPool<Job> pool(1, {}, [&](Job&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++ran;
    });
    for (int i = 0; i < 50; ++i) pool.Submit(Job{i});
  }
  EXPECT_LT(ran.load(), 50);
}

TEST(OrderedLoader, BuildsEachIndexOnceInOrderWithinThePrefetchBound) {
  std::atomic<int> built{0}, returned{0}, worst_ahead{0};
  OrderedLoader<std::string> loader(
      [&](int64_t i) {
        const int ahead = ++built - returned.load();
        int seen = worst_ahead.load();
        while (ahead > seen && !worst_ahead.compare_exchange_weak(seen, ahead)) {
        }
        return "item " + std::to_string(i);
      },
      5, 25, /*workers=*/3, /*prefetch=*/4);
  std::string item;
  for (int i = 5; i < 25; ++i) {
    ASSERT_TRUE(loader.Next(&item));
    ++returned;
    EXPECT_EQ(item, "item " + std::to_string(i));
  }
  EXPECT_FALSE(loader.Next(&item));
  EXPECT_EQ(built.load(), 20);
  EXPECT_LE(worst_ahead.load(), 4 + 1);  // At most `prefetch` in flight, plus the one just taken.
}

TEST(OrderedLoader, EndlessLoaderKeepsGoingAndRethrowsAtTheFailingIndex) {
  OrderedLoader<int> loader(
      [](int64_t i) {
        if (i == 7) throw std::runtime_error("batch 7 is corrupt");
        return static_cast<int>(i);
      },
      0, -1, 2, 3);
  int item = -1;
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(loader.Next(&item));
    EXPECT_EQ(item, i);
  }
  EXPECT_THROW(loader.Next(&item), std::runtime_error);
}

}  // namespace
}  // namespace segtune
