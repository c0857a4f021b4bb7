// Progress reporting for long work. On a TTY: a live bar with count, rate and ETA. Otherwise: a plain
// line every `plain_interval` seconds (and at the end), so CI logs stay readable. Silent with --quiet.
//
//   Progress progress("coco2tfrecord", images.size(), "img");
//   for (...) { ...; progress.Advance(); }
//   progress.Finish();  // Prints the final line: "coco2tfrecord: 2,000 img in 4.1 s (488 img/s)".
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace segtune {

class Progress {
 public:
  // total <= 0 means unknown: the bar shows count and rate only.
  Progress(std::string label, long long total, std::string unit = "it", double plain_interval = 10.0);
  ~Progress();  // Calls Finish() if not done yet.
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds n to the count. Thread-safe; redraws at most ~10 times per second.
  void Advance(long long n = 1);
  // Sets a short free-form suffix such as "loss 0.231 lr 1e-3". Thread-safe.
  void SetDetail(const std::string& detail);
  // Removes the live bar and prints the summary line (unless --quiet). Idempotent.
  void Finish();

  long long count() const { return count_.load(); }
  double ElapsedSeconds() const;

 private:
  void MaybeRender(bool force);
  std::string Render() const;

  std::string label_;
  long long total_;
  std::string unit_;
  double plain_interval_;
  std::atomic<long long> count_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_render_;
  std::chrono::steady_clock::time_point last_plain_;
  std::string detail_;
  mutable std::mutex mutex_;
  bool finished_ = false;
};

// "1h02m", "3m05s", "12.3s".
std::string FormatDuration(double seconds);

}  // namespace segtune
