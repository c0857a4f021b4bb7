#include "segtune/cli/download_options.h"

#include <string>

namespace segtune::cli {
namespace {

// CLI::PositiveNumber's message prints the whole double range; say what is wrong instead.
CLI::Validator MoreThanZero(const std::string& unit) {
  return CLI::Validator(
      [unit](std::string& value) -> std::string {
        try {
          if (std::stod(value) > 0) return "";
        } catch (const std::exception&) {
        }
        return "must be more than 0 " + unit + ", got " + value;
      },
      "> 0");
}

}  // namespace

void AddDownloadLimitOptions(CLI::App* app, DownloadOptions* options) {
  app->add_option("--max-bytes", options->max_bytes,
                  "Largest file to download, per file (e.g. 512M, 2G); larger ones fail and are removed")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false))
      ->check(MoreThanZero("bytes"));
  app->add_option("--timeout", options->timeout_seconds,
                  "Seconds one file may take to download, however fast it streams")
      ->capture_default_str()
      ->check(MoreThanZero("seconds"));
}

}  // namespace segtune::cli
