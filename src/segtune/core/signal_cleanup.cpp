#include "segtune/core/signal_cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "segtune/core/log.h"

namespace segtune {
namespace {

// A slot is free (kFree), being filled by a registering thread (kWriting: the handler skips it),
// or armed (kArmed: the handler removes its path). Lock-free atomics, so the handler may read them.
enum SlotState : int { kFree = 0, kWriting = 1, kArmed = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX] = {0};
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads slot states");

Slot g_slots[kRemoveOnSignalSlots];

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kSignalCount = sizeof kSignals / sizeof kSignals[0];
struct sigaction g_previous[kSignalCount];
std::mutex g_install_mutex;

constexpr int kMaxDepth = 16;  // Deeper trees are left (the temporaries here are one or two levels).

// Removes `name` under the directory `dirfd` (a file, or a directory and everything in it). Only
// async-signal-safe calls: openat, getdents64 (a raw system call), unlinkat, close.
void RemoveAt(int dirfd, const char* name, int depth) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) return;
  if (depth >= kMaxDepth) return;
  // Several passes: a writer thread may still add a file (a .part) while we empty the directory.
  for (int pass = 0; pass < 3; ++pass) {
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    alignas(8) char buffer[4096];
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (long offset = 0; offset < n;) {
        // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[].
        unsigned short reclen;
        std::memcpy(&reclen, buffer + offset + 16, sizeof reclen);
        const char* entry = buffer + offset + 19;
        if (std::strcmp(entry, ".") != 0 && std::strcmp(entry, "..") != 0) RemoveAt(fd, entry, depth + 1);
        offset += reclen;
      }
    }
    ::close(fd);
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno != ENOTEMPTY) return;
  }
}

void RemoveRegistered() {
  for (Slot& slot : g_slots)
    if (slot.state.load() == kArmed) RemoveAt(AT_FDCWD, slot.path, 0);
}

int SignalIndex(int sig) {
  for (int i = 0; i < kSignalCount; ++i)
    if (kSignals[i] == sig) return i;
  return -1;
}

// A plain handler (not SA_SIGINFO): code that saves it with std::signal and restores it later puts
// back a handler that still works.
extern "C" void OnTerminatingSignal(int sig) {
  const int saved_errno = errno;
  const int i = SignalIndex(sig);
  if (i < 0) return;
  const struct sigaction& previous = g_previous[i];
  if (previous.sa_flags & SA_SIGINFO) {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    info.si_signo = sig;
    previous.sa_sigaction(sig, &info, nullptr);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  } else if (previous.sa_handler == SIG_DFL) {
    RemoveRegistered();
    // Die of the same signal: default disposition, unblock it (it is blocked while we run), raise.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    ::sigaction(sig, &default_action, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
  }
  errno = saved_errno;
}

// Installs the handler for every signal whose disposition is not "ignore" and not already ours.
// Called on each registration, so a handler that someone replaced and did not restore comes back.
void InstallHandlers() {
  std::lock_guard<std::mutex> lock(g_install_mutex);
  for (int i = 0; i < kSignalCount; ++i) {
    struct sigaction current {};
    if (::sigaction(kSignals[i], nullptr, &current) != 0) continue;
    const bool ours = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == OnTerminatingSignal;
    if (ours || (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN)) continue;
    struct sigaction action {};
    action.sa_handler = OnTerminatingSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    g_previous[i] = current;
    ::sigaction(kSignals[i], &action, nullptr);
  }
}

}  // namespace

RemoveOnSignal::RemoveOnSignal(const std::filesystem::path& path) {
  const std::string absolute = std::filesystem::absolute(path).string();
  if (absolute.size() >= PATH_MAX) {
    Debug("remove-on-signal: path too long to register: " + absolute);
    return;
  }
  for (int i = 0; i < kRemoveOnSignalSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kWriting)) continue;
    std::memcpy(g_slots[i].path, absolute.c_str(), absolute.size() + 1);
    g_slots[i].state.store(kArmed);
    slot_ = i;
    InstallHandlers();
    return;
  }
  Debug("remove-on-signal: all " + std::to_string(kRemoveOnSignalSlots) + " slots taken; not registered: " +
        absolute);
}

RemoveOnSignal::~RemoveOnSignal() {
  if (slot_ >= 0) g_slots[slot_].state.store(kFree);
}

int RemoveOnSignalCount() {
  int n = 0;
  for (const Slot& slot : g_slots) n += slot.state.load() == kArmed;
  return n;
}

}  // namespace segtune
