// Thread-seconds per pipeline stage of `segtune infer` (InferenceSummary::stage_seconds): where the
// time goes when several workers run at once, which wall time cannot say.
//
//   StageClock clock({"decode", "forward", "write"});
//   { StageClock::Scope timed(clock, "forward"); ... }
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "segtune/core/error.h"

namespace segtune {

class StageClock {
 public:
  static constexpr size_t kMaxStages = 16;

  // The stages in pipeline order (the order stage_seconds lists them in).
  explicit StageClock(std::vector<std::string> names) : names_(std::move(names)) {
    if (names_.size() > kMaxStages) throw Error("StageClock: more than 16 stages");
  }

  // Adds the scope's duration to `stage` (one of the names; a typo is a programming error).
  class Scope {
   public:
    Scope(StageClock& clock, const char* stage)
        : nanos_(clock.nanos_[clock.IndexOf(stage)]), start_(std::chrono::steady_clock::now()) {}
    ~Scope() {
      nanos_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::atomic<int64_t>& nanos_;
    std::chrono::steady_clock::time_point start_;
  };

  std::vector<std::pair<std::string, double>> Seconds() const {
    std::vector<std::pair<std::string, double>> seconds;
    for (size_t s = 0; s < names_.size(); ++s) seconds.emplace_back(names_[s], nanos_[s].load() * 1e-9);
    return seconds;
  }

 private:
  size_t IndexOf(const char* stage) const {
    for (size_t s = 0; s < names_.size(); ++s) {
      if (names_[s] == stage) return s;
    }
    throw Error(std::string("StageClock: unknown stage ") + stage);
  }

  std::vector<std::string> names_;
  std::array<std::atomic<int64_t>, kMaxStages> nanos_{};
};

}  // namespace segtune
