#include "segtune/core/progress.h"

#include <cmath>
#include <cstdio>

#include "segtune/core/log.h"
#include "segtune/core/terminal.h"

namespace segtune {

std::string FormatDuration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(seconds) / 3600, int(seconds) % 3600 / 60);
  }
  return buf;
}

Progress::Progress(std::string label, long long total, std::string unit, double plain_interval)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      plain_interval_(plain_interval),
      start_(std::chrono::steady_clock::now()),
      last_render_(start_),
      last_plain_(start_) {}

Progress::~Progress() { Finish(); }

double Progress::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::Advance(long long n) {
  count_ += n;
  MaybeRender(false);
}

void Progress::SetDetail(const std::string& detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  detail_ = detail;
}

std::string Progress::Render() const {
  const long long done = count_.load();
  const double elapsed = ElapsedSeconds();
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  char buf[256];
  std::string line = label_ + " ";
  if (total_ > 0) {
    const double frac = std::min(1.0, double(done) / double(total_));
    const int width = 24;
    const int filled = int(frac * width);
    line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    std::snprintf(buf, sizeof buf, "%s/%s %3.0f%% ", WithCommas(done).c_str(),
                  WithCommas(total_).c_str(), frac * 100);
    line += buf;
  } else {
    line += WithCommas(done) + " ";
  }
  std::snprintf(buf, sizeof buf, "%.1f %s/s", rate, unit_.c_str());
  line += buf;
  if (total_ > 0 && rate > 0 && done < total_) line += " ETA " + FormatDuration((total_ - done) / rate);
  if (!detail_.empty()) line += "  " + detail_;
  return line;
}

void Progress::MaybeRender(bool force) {
  if (GetVerbosity() == Verbosity::kQuiet) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (StderrIsTerminal()) {
    if (!force && now - last_render_ < std::chrono::milliseconds(100)) return;
    last_render_ = now;
    StderrStatus(Render());
  } else {
    if (!force && std::chrono::duration<double>(now - last_plain_).count() < plain_interval_) return;
    last_plain_ = now;
    StderrLine(Render());
  }
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (GetVerbosity() == Verbosity::kQuiet) return;
  if (StderrIsTerminal()) StderrStatus("");
  const double elapsed = ElapsedSeconds();
  char buf[128];
  std::snprintf(buf, sizeof buf, " in %s (%.1f %s/s)", FormatDuration(elapsed).c_str(),
                elapsed > 0 ? count_.load() / elapsed : 0.0, unit_.c_str());
  std::string line = label_ + ": " + WithCommas(count_.load()) + " " + unit_ + buf;
  if (!detail_.empty()) line += "  " + detail_;
  StderrLine(line);
}

}  // namespace segtune
