// Ctrl-C and SIGTERM while a verb is writing: the temporaries of unfinished outputs ("*.tmp-PID-N")
// are removed and the exit status is 128 + signal (issue 18 item 12: they were left behind).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "segtune/core/atomic_file.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

// Paths under `dir` whose name holds ".tmp-".
std::vector<fs::path> Temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) out.push_back(entry.path());
  }
  return out;
}

// Starts a `segtune synth` large enough to be interrupted while it writes its temporary directory.
void InterruptSynth(int signal_number) {
  segtune::testing::TempDir dir;
  const fs::path out = dir / "set", log = dir / "log.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    signal(SIGINT, SIG_DFL);  // A test runner started in the background may ignore them; the child must not.
    signal(SIGTERM, SIG_DFL);
    execl(SEGTUNE_BINARY, SEGTUNE_BINARY, "--threads", "1", "synth", "--out", out.c_str(), "--images", "100000",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  bool exited = false;
  while (!exited && std::chrono::steady_clock::now() < deadline) {
    const auto temps = Temporaries(dir.path());
    if (!temps.empty() && fs::exists(temps[0] / "images") && !fs::is_empty(temps[0] / "images")) break;
    exited = waitpid(pid, &status, WNOHANG) == pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(exited) << segtune::ReadFile(log);
  ASSERT_FALSE(Temporaries(dir.path()).empty()) << "no temporary directory appeared";
  ASSERT_EQ(kill(pid, signal_number), 0);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 128 + signal_number) << segtune::ReadFile(log);
  EXPECT_TRUE(Temporaries(dir.path()).empty());
  EXPECT_FALSE(fs::exists(out));
}

TEST(Interrupt, SigintRemovesTemporariesAndExits130) { InterruptSynth(SIGINT); }

TEST(Interrupt, SigtermRemovesTemporariesAndExits143) { InterruptSynth(SIGTERM); }

}  // namespace
