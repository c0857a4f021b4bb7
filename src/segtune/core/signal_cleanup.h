// Temporary files and directories that must not outlive the process when SIGINT, SIGTERM or SIGHUP
// ends it. Destructors do not run when a signal kills a process, so each temporary that RAII removes
// on the normal and error paths is also registered here for the signal path.
//
//   RemoveOnSignal guard(scratch_dir);  // Registered for as long as `guard` lives.
//   ...                                 // The owner still removes scratch_dir itself when done.
//
// The handler is installed on the first registration, only for signals whose disposition is the
// default (terminate): an ignored signal stays ignored. When a signal arrives whose previous handler
// was a function (the trainer's stop-after-this-step flag, say), that handler is called instead and
// nothing is removed: the process goes on and cleans up by itself. Otherwise the handler removes
// every registered path with async-signal-safe calls only (unlink, getdents64, rmdir), restores the
// default disposition and re-raises the signal, so the exit status still says "killed by SIGINT".
#pragma once

#include <filesystem>

namespace segtune {

class RemoveOnSignal {
 public:
  // Registers `path` (a file, or a directory removed with everything in it). At most
  // kRemoveOnSignalSlots paths are registered at once; beyond that the path is not registered (a
  // debug message says so) and only the owner's own cleanup covers it.
  explicit RemoveOnSignal(const std::filesystem::path& path);
  ~RemoveOnSignal();  // Unregisters; does not remove the path (its owner does).
  RemoveOnSignal(const RemoveOnSignal&) = delete;
  RemoveOnSignal& operator=(const RemoveOnSignal&) = delete;

  bool registered() const { return slot_ >= 0; }

 private:
  int slot_ = -1;
};

inline constexpr int kRemoveOnSignalSlots = 128;

// Number of paths registered now (for tests).
int RemoveOnSignalCount();

}  // namespace segtune
