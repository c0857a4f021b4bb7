// Temporaries of unfinished writes (AtomicFile's "<path>.tmp-PID-N", AtomicDirectory's directory)
// are removed when the process is stopped by SIGINT, SIGTERM or SIGHUP, so Ctrl-C leaves nothing
// behind. The signal handler itself only writes the signal number to a pipe (async-signal-safe); a
// watcher thread removes the registered paths with ordinary code and exits 128 + signal.
// (SIGKILL cannot be caught: readers skip stale temporaries by name, data/shard_set.h.)
#pragma once

#include <cstdint>
#include <filesystem>

namespace segtune {

// Installs the handlers and starts the watcher thread. Call once, from main(), before any work.
// Code that handles these signals itself for a while (train's graceful stop) may replace the
// handlers and restore them after. Without this call, registration is bookkeeping only.
void InstallInterruptCleanup();

// While alive, `path` (a file or a directory tree) is removed if the process is interrupted.
class InterruptCleanup {
 public:
  explicit InterruptCleanup(const std::filesystem::path& path);
  ~InterruptCleanup();
  InterruptCleanup(const InterruptCleanup&) = delete;
  InterruptCleanup& operator=(const InterruptCleanup&) = delete;

 private:
  uint64_t id_;
};

}  // namespace segtune
