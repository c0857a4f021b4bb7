// stderr shared by log lines and the live progress bar: a log line first clears the bar, then the
// bar is redrawn, so the two never interleave.
#pragma once

#include <string>

namespace segtune {

bool StderrIsTerminal();
// Writes `line` + '\n' to stderr, clearing and redrawing the live status line if one is shown.
void StderrLine(const std::string& line);
// Replaces the live status line (TTY only); an empty string removes it.
void StderrStatus(const std::string& status);

}  // namespace segtune
