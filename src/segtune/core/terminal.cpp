#include "segtune/core/terminal.h"

#include <unistd.h>

#include <cstdio>
#include <mutex>

namespace segtune {
namespace {
std::mutex g_mutex;
std::string g_status;  // What the live line shows now; empty when none.

void ClearStatusLocked() {
  if (!g_status.empty()) std::fputs("\r\033[K", stderr);
}
}  // namespace

bool StderrIsTerminal() {
  static const bool tty = isatty(STDERR_FILENO) == 1;
  return tty;
}

void StderrLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  ClearStatusLocked();
  std::fputs(line.c_str(), stderr);
  std::fputc('\n', stderr);
  if (!g_status.empty()) std::fputs(g_status.c_str(), stderr);
  std::fflush(stderr);
}

void StderrStatus(const std::string& status) {
  std::lock_guard<std::mutex> lock(g_mutex);
  ClearStatusLocked();
  g_status = status;
  if (!g_status.empty()) std::fputs(g_status.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace segtune
