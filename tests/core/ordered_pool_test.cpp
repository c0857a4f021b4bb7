// core/ordered_pool.h: jobs come back in submission order whatever order the workers finish them in;
// a job's error surfaces at its turn; the loader stays within its prefetch bound and builds each
// index once; ParallelForInOrder consumes in index order on the calling thread, within its window.
#include "segtune/core/ordered_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

TEST(ParallelForInOrder, ConsumesEveryItemInIndexOrderWithinTheWindow) {
  for (const int threads : {1, 2, 4}) {
    std::atomic<int> built{0};
    std::atomic<int> consumed{0};
    std::atomic<int> worst_ahead{0};
    std::vector<size_t> order;
    std::set<std::thread::id> builders;
    std::mutex builders_mutex;
    ParallelForInOrder<std::string>(
        40, threads, 3,
        [&](size_t i) {
          const int ahead = ++built - consumed.load();
          int seen = worst_ahead.load();
          while (ahead > seen && !worst_ahead.compare_exchange_weak(seen, ahead)) {
          }
          {
            std::lock_guard<std::mutex> lock(builders_mutex);
            builders.insert(std::this_thread::get_id());
          }
          // Early items take longest, so later ones finish first.
          std::this_thread::sleep_for(std::chrono::milliseconds(i % 5 == 0 ? 4 : 0));
          return "item " + std::to_string(i);
        },
        [&](size_t i, std::string& item) {
          EXPECT_EQ(item, "item " + std::to_string(i));
          order.push_back(i);
          ++consumed;
        });
    ASSERT_EQ(order.size(), 40u) << threads << " threads";
    for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
    EXPECT_EQ(built.load(), 40);
    EXPECT_LE(worst_ahead.load(), 3 + 1) << threads << " threads";  // The window, plus the one being consumed.
    EXPECT_LE(builders.size(), size_t(threads));
    if (threads == 1) EXPECT_EQ(*builders.begin(), std::this_thread::get_id());  // No thread started.
  }
}

TEST(ParallelForInOrder, AnItemsErrorIsRethrownAtItsTurnAfterTheEarlierItems) {
  std::vector<size_t> consumed;
  try {
    ParallelForInOrder<int>(
        20, 2, 4,
        [](size_t i) {
          if (i == 6) throw std::runtime_error("item 6 failed");
          return int(i);
        },
        [&](size_t i, int&) { consumed.push_back(i); });
    FAIL() << "expected the error of item 6";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "item 6 failed");
  }
  EXPECT_EQ(consumed, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
}

TEST(ParallelForInOrder, AConsumersErrorStopsTheWorkAndJoins) {
  std::atomic<int> built{0};
  EXPECT_THROW(ParallelForInOrder<int>(
                   1000, 3, 4,
                   [&](size_t i) {
                     ++built;
                     return int(i);
                   },
                   [](size_t i, int&) {
                     if (i == 2) throw std::runtime_error("disk full");
                   }),
               std::runtime_error);
  EXPECT_LE(built.load(), 2 + 1 + 4 + 3);  // Consumed, the failing one, the window and those running.
}

}  // namespace
}  // namespace segtune
