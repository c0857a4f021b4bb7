// The download limits every verb that fetches URLs offers, under the same names: --max-bytes and
// --timeout (the messages of segtune::DownloadAll and FetchUrl name these options).
#pragma once

#include <CLI/CLI.hpp>

#include "segtune/core/download.h"

namespace segtune::cli {

// Adds --max-bytes (accepts 512M, 2G, ...; 1K = 1024) and --timeout, showing the values already in
// *options as the defaults.
void AddDownloadLimitOptions(CLI::App* app, DownloadOptions* options);

}  // namespace segtune::cli
