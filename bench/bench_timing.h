// Timing shared by the bench drivers: median wall time of repeated runs after one warm-up run.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace segtune::bench {

// Runs `run` once to warm up (allocator, oneDNN primitive caches), then `repeats` times; returns the
// median wall time in milliseconds (the upper median for an even count).
template <typename Fn>
double MedianMs(int repeats, Fn&& run) {
  run();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace segtune::bench
