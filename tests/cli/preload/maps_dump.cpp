// Test helper, preloaded into a segtune process (LD_PRELOAD) by tests/cli/startup_test.cpp: when the
// process exits, copies /proc/self/maps (every file mapped, so every shared library loaded, dlopen
// included) to the file named by $SEGTUNE_TEST_MAPS_OUT. Never part of segtune itself.
#include <cstdlib>
#include <fstream>

namespace {

// A preloaded library is finalised last, after main() returned and the plugin (if any) was loaded.
__attribute__((destructor)) void DumpMaps() {
  const char* out = std::getenv("SEGTUNE_TEST_MAPS_OUT");
  if (out == nullptr) return;
  std::ifstream maps("/proc/self/maps");
  std::ofstream copy(out);
  copy << maps.rdbuf();
}

}  // namespace
