#include "segtune/cli/skip_corrupt.h"

namespace segtune::cli {
namespace {
bool g_skip_corrupt = false;
}  // namespace

void AddSkipCorruptFlag(CLI::App& app) {
  app.add_flag("--skip-corrupt", g_skip_corrupt,
               "Report and skip corrupt, truncated or oversized records instead of stopping");
}

bool SkipCorruptRequested() { return g_skip_corrupt; }

}  // namespace segtune::cli
