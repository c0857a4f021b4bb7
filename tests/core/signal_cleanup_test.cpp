#include "segtune/core/signal_cleanup.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "test_util.h"

namespace fs = std::filesystem;
using segtune::RemoveOnSignal;
using segtune::testing::TempDir;

namespace {

void Touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "x";
}

// Runs `child` in a forked process and returns its wait status.
template <typename Fn>
int InChild(Fn child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    child();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

volatile sig_atomic_t g_handled = 0;
void SetHandled(int) { g_handled = 1; }

}  // namespace

TEST(RemoveOnSignal, SigtermRemovesEveryRegisteredPathAndDiesOfTheSignal) {
  TempDir dir;
  for (const char* f : {"scratch/a.png", "scratch/a.png.part", "scratch/sub/deeper/b", "single.tmp", "kept.txt"})
    Touch(dir / f);
  const int status = InChild([&] {
    ::signal(SIGTERM, SIG_DFL);
    RemoveOnSignal tree(dir / "scratch");
    RemoveOnSignal file(dir / "single.tmp");
    RemoveOnSignal missing(dir / "never-created");
    ::raise(SIGTERM);
    ::_exit(99);  // Not reached: the signal ends the process.
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_FALSE(fs::exists(dir / "scratch"));
  EXPECT_FALSE(fs::exists(dir / "single.tmp"));
  EXPECT_TRUE(fs::exists(dir / "kept.txt"));
}

TEST(RemoveOnSignal, SigintToo) {
  TempDir dir;
  Touch(dir / "scratch/a");
  const int status = InChild([&] {
    ::signal(SIGINT, SIG_DFL);
    RemoveOnSignal tree(dir / "scratch");
    ::raise(SIGINT);
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << status;
  EXPECT_FALSE(fs::exists(dir / "scratch"));
}

TEST(RemoveOnSignal, AnUnregisteredPathStays) {
  TempDir dir;
  Touch(dir / "done/a");
  Touch(dir / "live/b");
  const int status = InChild([&] {
    ::signal(SIGTERM, SIG_DFL);
    { RemoveOnSignal finished(dir / "done"); }
    RemoveOnSignal live(dir / "live");
    ::raise(SIGTERM);
  });
  EXPECT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_TRUE(fs::exists(dir / "done/a"));
  EXPECT_FALSE(fs::exists(dir / "live"));
}

// A handler installed before (the trainer's "stop after this step") still decides: the process goes
// on, so nothing is removed behind its back.
TEST(RemoveOnSignal, APreviousHandlerRunsInsteadAndNothingIsRemoved) {
  TempDir dir;
  Touch(dir / "scratch/a");
  const int status = InChild([&] {
    ::signal(SIGTERM, SetHandled);
    RemoveOnSignal tree(dir / "scratch");
    ::raise(SIGTERM);
    ::_exit(g_handled ? 7 : 8);
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_TRUE(fs::exists(dir / "scratch/a"));
}

TEST(RemoveOnSignal, AnIgnoredSignalStaysIgnored) {
  TempDir dir;
  Touch(dir / "scratch/a");
  const int status = InChild([&] {
    ::signal(SIGHUP, SIG_IGN);
    RemoveOnSignal tree(dir / "scratch");
    ::raise(SIGHUP);
    ::_exit(3);
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_TRUE(fs::exists(dir / "scratch/a"));
}

TEST(RemoveOnSignal, CountsRegistrations) {
  const int before = segtune::RemoveOnSignalCount();
  {
    RemoveOnSignal a("/tmp/segtune-test-a"), b("/tmp/segtune-test-b");
    EXPECT_TRUE(a.registered());
    EXPECT_EQ(segtune::RemoveOnSignalCount(), before + 2);
  }
  EXPECT_EQ(segtune::RemoveOnSignalCount(), before);
}
