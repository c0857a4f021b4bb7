#include "segtune/engine/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "segtune/core/error.h"
#include "segtune/core/log.h"

namespace segtune {

namespace {

constexpr int kMaxWorkers = 256;
pid_t g_workers[kMaxWorkers];  // 0 = exited. Read by the signal handler.
std::atomic<int> g_worker_count{0};

std::atomic<int> g_forwarded{0};  // The last stop signal forwarded to the workers.

extern "C" void ForwardSignal(int sig) {
  g_forwarded = sig;
  for (int i = 0; i < g_worker_count.load(); ++i) {
    if (g_workers[i] > 0) kill(g_workers[i], sig);
  }
}

// Forwards the stop signals to the workers while alive, restoring the previous handlers after.
class SignalForwarding {
 public:
  SignalForwarding() {
    struct sigaction action {};
    action.sa_handler = ForwardSignal;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &old_[i]);
  }
  ~SignalForwarding() {
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
};

std::vector<std::string> OwnCommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);  // Size 0 to stat: read to the end.
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) throw IoError("/proc/self/cmdline", "cannot read this process's command line");
  std::vector<std::string> argv;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\0', start);
    argv.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return argv;
}

pid_t StartWorker(const std::vector<std::string>& argv, int rank, int nproc, const LaunchOptions& options, int port) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw IoError("fork", "cannot start worker rank " + std::to_string(rank));
  if (pid > 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // A killed launcher leaves no orphans.
  setenv("RANK", std::to_string(rank).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
  setenv("MASTER_ADDR", options.master_addr.c_str(), 1);
  setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  execv("/proc/self/exe", args.data());
  std::fprintf(stderr, "segtune: rank %d: exec /proc/self/exe failed: %s\n", rank, std::strerror(errno));
  _exit(127);
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped with wait status " + std::to_string(status);
}

int RankOf(pid_t pid, int nproc) {
  for (int i = 0; i < nproc; ++i) {
    if (g_workers[i] == pid) return i;
  }
  return -1;
}

}  // namespace

int FreeTcpPort(const std::string& address) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw IoError("socket", "cannot pick a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    close(fd);
    throw IoError(address, "cannot bind a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

int LaunchLocalWorkers(const LaunchOptions& options) {
  if (options.nproc < 1 || options.nproc > kMaxWorkers) {
    throw UsageError("--nproc-per-node must be in [1, " + std::to_string(kMaxWorkers) + "]");
  }
  const std::vector<std::string> argv = options.argv.empty() ? OwnCommandLine() : options.argv;
  const int port = options.master_port > 0 ? options.master_port : FreeTcpPort(options.master_addr);
  Info("launching " + std::to_string(options.nproc) + " workers (rendezvous " + options.master_addr + ":" +
       std::to_string(port) + ")");
  SignalForwarding forwarding;
  g_forwarded = 0;
  g_worker_count = 0;
  for (int rank = 0; rank < options.nproc; ++rank) {
    g_workers[rank] = StartWorker(argv, rank, options.nproc, options, port);
    g_worker_count = rank + 1;
  }
  int running = options.nproc;
  std::string failure;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, failure.empty() ? 0 : WNOHANG);
    if (pid > 0) {
      const int rank = RankOf(pid, options.nproc);
      if (rank < 0) continue;
      g_workers[rank] = 0;
      --running;
      // A worker that saved its checkpoint after a forwarded Ctrl-C exits 128 + signal: a clean stop.
      const bool stopped = g_forwarded != 0 && WIFEXITED(status) && WEXITSTATUS(status) == 128 + g_forwarded;
      if (failure.empty() && !stopped && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        failure = "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ") " + DescribeStatus(status);
        Warn(failure + "; waiting up to " + std::to_string(options.grace.count()) + " s for the other ranks to stop");
        deadline = std::chrono::steady_clock::now() + options.grace;
      }
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;  // A forwarded signal.
    if (pid < 0) break;                        // No child left (ECHILD).
    if (std::chrono::steady_clock::now() >= deadline) {
      for (int i = 0; i < options.nproc; ++i) {
        if (g_workers[i] > 0) {
          Warn("rank " + std::to_string(i) + " (pid " + std::to_string(g_workers[i]) + ") still running; killing it");
          kill(g_workers[i], SIGKILL);
        }
      }
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  g_worker_count = 0;
  if (!failure.empty()) throw Error("distributed training failed: " + failure);
  return g_forwarded;
}

}  // namespace segtune
