// Temporaries of unfinished writes (AtomicFile's "<path>.tmp-PID-N", AtomicDirectory's directory)
// are removed when the process is stopped by SIGINT, SIGTERM or SIGHUP, so Ctrl-C leaves nothing
// behind. The signal handler itself only writes the signal number to a pipe (async-signal-safe); a
// watcher thread removes the registered paths with ordinary code and exits 128 + signal.
// (SIGKILL cannot be caught: readers skip stale temporaries by name, formats/shard_set.h.)
#pragma once

#include <filesystem>

namespace segtune {

// Installs the handlers and starts the watcher thread. Call once, from main(), before any work.
// Code that handles these signals itself for a while (train's graceful stop) may replace the
// handlers and restore them after. Without this call, registration is bookkeeping only.
void InstallInterruptCleanup();

// From now until UnregisterInterruptCleanup(path), `path` (a file or a directory tree) is removed if
// the process is interrupted. Register before creating it. Registrations of one path nest (counted).
void RegisterInterruptCleanup(const std::filesystem::path& path);
void UnregisterInterruptCleanup(const std::filesystem::path& path);

}  // namespace segtune
