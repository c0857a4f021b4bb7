// Process-wide verbosity and the one place that writes human-facing messages to stderr.
#pragma once

#include <sstream>
#include <string>

namespace segtune {

enum class Verbosity { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void SetVerbosity(Verbosity v);
Verbosity GetVerbosity();

// Writes one line to stderr unless --quiet. Thread-safe; never interleaves with a progress bar.
void Info(const std::string& line);
// Writes one line to stderr only with -v.
void Debug(const std::string& line);
// Writes "segtune: warning: <line>" to stderr (shown even with --quiet).
void Warn(const std::string& line);

// Formats an integer with thousands separators: 38912117 -> "38,912,117".
std::string WithCommas(long long n);

}  // namespace segtune
