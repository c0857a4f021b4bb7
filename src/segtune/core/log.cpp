#include "segtune/core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "segtune/core/terminal.h"

namespace segtune {
namespace {
std::atomic<int> g_verbosity{static_cast<int>(Verbosity::kNormal)};
}  // namespace

void SetVerbosity(Verbosity v) { g_verbosity = static_cast<int>(v); }
Verbosity GetVerbosity() { return static_cast<Verbosity>(g_verbosity.load()); }

void Info(const std::string& line) {
  if (GetVerbosity() >= Verbosity::kNormal) StderrLine(line);
}
void Debug(const std::string& line) {
  if (GetVerbosity() >= Verbosity::kVerbose) StderrLine(line);
}
void Warn(const std::string& line) { StderrLine("segtune: warning: " + line); }

std::string WithCommas(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace segtune
