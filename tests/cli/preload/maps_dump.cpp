// Test helper, preloaded into a segtune process (LD_PRELOAD) by tests/cli/startup_test.cpp: when the
// process exits, copies /proc/self/maps (every file mapped, so every shared library loaded, dlopen
// included) to the file named by $SEGTUNE_TEST_MAPS_OUT, /proc/self/smaps (the same with each
// mapping's flags) to $SEGTUNE_TEST_SMAPS_OUT and the environment as the process then sees it, one
// variable per line, to $SEGTUNE_TEST_ENVIRON_OUT (not /proc/self/environ: glibc splits
// GLIBC_TUNABLES in place there as it reads it). Never part of segtune itself.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace {

void Copy(const char* from, const char* to_variable) {
  const char* to = std::getenv(to_variable);
  if (to == nullptr) return;
  std::ifstream in(from);
  std::ofstream copy(to);
  copy << in.rdbuf();
}

void DumpMaps() {
  Copy("/proc/self/maps", "SEGTUNE_TEST_MAPS_OUT");
  Copy("/proc/self/smaps", "SEGTUNE_TEST_SMAPS_OUT");
  if (const char* to = std::getenv("SEGTUNE_TEST_ENVIRON_OUT")) {
    std::ofstream out(to);
    for (char** e = environ; *e != nullptr; ++e) out << *e << "\n";
  }
}

// A preloaded library is finalised last, after main() returned and the plugin (if any) was loaded.
__attribute__((destructor)) void DumpMapsAtExit() { DumpMaps(); }

}  // namespace

// After a verb that loaded LibTorch, segtune ends with _Exit (cli/main.cpp), which runs no
// destructors: this one stands in for libc's, dumps, then ends the process as _Exit does.
extern "C" [[noreturn]] void _Exit(int status) {
  DumpMaps();
  ::syscall(SYS_exit_group, status);
  __builtin_unreachable();
}
