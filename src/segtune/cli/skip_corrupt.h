// --skip-corrupt: the verbs that read TFRecords report and skip corrupt, truncated or oversized
// records instead of stopping (TFRecordReaderOptions::skip_corrupt, docs/security.md).
#pragma once

#include <CLI/CLI.hpp>

namespace segtune::cli {

// Adds the flag to a verb or sub-verb.
void AddSkipCorruptFlag(CLI::App& app);
// True if the verb being run was given --skip-corrupt (main() passes it on to the input limits).
bool SkipCorruptRequested();

}  // namespace segtune::cli
