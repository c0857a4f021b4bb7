// Wall time since a point, for the timings `-v` prints.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace segtune {

class Stopwatch {
 public:
  // Seconds since construction.
  double Seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  // The same as text, to the millisecond: "0.142 s".
  std::string Text() const {
    char text[32];
    std::snprintf(text, sizeof(text), "%.3f s", Seconds());
    return text;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace segtune
