// Timing shared by the bench drivers: median wall (or CPU) time of repeated runs after one warm-up run.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

namespace segtune::bench {

// Runs `run` once to warm up (allocator, oneDNN primitive caches), then `repeats` times; returns the
// median of `now_ms()` differences (the upper median for an even count).
template <typename Fn, typename Clock>
double MedianOf(int repeats, Fn&& run, Clock&& now_ms) {
  run();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const double start = now_ms();
    run();
    ms.push_back(now_ms() - start);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Median wall time in milliseconds.
template <typename Fn>
double MedianMs(int repeats, Fn&& run) {
  return MedianOf(repeats, run, [] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  });
}

// Median CPU time of the whole process (all threads) in milliseconds. On a loaded shared machine wall
// time mostly measures the neighbours; CPU time measures the work (compare at --threads 1, where no
// thread spins waiting for a descheduled peer).
template <typename Fn>
double MedianCpuMs(int repeats, Fn&& run) {
  return MedianOf(repeats, run, [] { return 1000.0 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; });
}

}  // namespace segtune::bench
