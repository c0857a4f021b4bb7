#include "segtune/core/interrupt_cleanup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

namespace segtune {
namespace {

std::mutex g_mutex;
std::map<std::filesystem::path, int>& Registered() {  // Guarded by g_mutex. Path -> registrations.
  static auto* paths = new std::map<std::filesystem::path, int>;  // Never destroyed: used at exit.
  return *paths;
}
int g_pipe[2] = {-1, -1};

extern "C" void OnInterrupt(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);  // Async-signal-safe; the rest is on the watcher.
  errno = saved;
}

[[noreturn]] void WatchForInterrupt() {
  unsigned char sig = 0;
  for (;;) {
    const ssize_t n = ::read(g_pipe[0], &sig, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // The pipe broke: nothing more to watch, park.
      for (;;) ::pause();
    }
  }
  // Held until _exit: a writer cannot register (and so create) a new temporary after this sweep.
  g_mutex.lock();
  // Writers past their registration keep running during the sweep: one may add a file to a folder
  // being removed (`synth`'s image workers), which makes that removal fail. Sweep until every path is
  // gone, and once more after a pause for a file created just after (a flaky
  // Interrupt.SigintRemovesTemporariesAndExits130 showed the folder left behind).
  for (int pass = 0; pass < 2; ++pass) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      bool left = false;
      for (const auto& [path, count] : Registered()) {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        left |= std::filesystem::exists(std::filesystem::symlink_status(path, ec));
      }
      if (!left) break;
    }
    if (pass == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::_exit(128 + sig);
}

}  // namespace

void InstallInterruptCleanup() {
  if (g_pipe[0] >= 0) return;
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) return;  // Then interrupts keep their default action.
  std::thread(WatchForInterrupt).detach();
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // nohup, background jobs: the caller wants it ignored.
    sigaction(sig, &action, nullptr);
  }
}

void RegisterInterruptCleanup(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  ++Registered()[path];
}

void UnregisterInterruptCleanup(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = Registered().find(path);
  if (it != Registered().end() && --it->second == 0) Registered().erase(it);
}

}  // namespace segtune
