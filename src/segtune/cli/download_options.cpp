#include "segtune/cli/download_options.h"

namespace segtune::cli {

void AddDownloadLimitOptions(CLI::App* app, DownloadOptions* options) {
  app->add_option("--max-bytes", options->max_bytes,
                  "Largest file to download, per file (e.g. 512M, 2G); larger ones fail and are removed")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::PositiveNumber);
  app->add_option("--timeout", options->timeout_seconds,
                  "Seconds one file may take to download, however fast it streams")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace segtune::cli
