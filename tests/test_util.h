// Helpers shared by the test suites: temporary directories and running the built binary.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

namespace segtune::testing {

// A fresh directory under $TMPDIR, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "segtune-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// `bytes` as one zlib stream: a TFRecord file as TF writes it with ZLIB compression. (Only tests that
// call it need to link zlib.)
inline std::string ZlibCompressed(const std::string& bytes) {
  uLongf size = compressBound(bytes.size());
  std::string packed(size, '\0');
  if (compress(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(bytes.data()),
               bytes.size()) != Z_OK) {
    std::abort();
  }
  packed.resize(size);
  return packed;
}

// 1-based number of the first line of `text` containing `needle`; -1 if none.
inline int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  return at == std::string::npos ? -1 : 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// How often `what` occurs in `text` (overlapping occurrences counted).
inline size_t CountOccurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together.
};

// Runs a shell command and captures stdout+stderr.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs the built `segtune` binary with the given arguments (a shell-quoted string).
inline CommandResult RunSegtune(const std::string& args) {
  return RunCommand(std::string("'") + SEGTUNE_BINARY + "' " + args);
}

// Runs Debian's python3 (which has torch, torchvision, onnx) on a script from the source tree.
inline CommandResult RunPython(const std::string& script_and_args) {
  return RunCommand(std::string(SEGTUNE_TEST_PYTHON) + " " + script_and_args);
}

// For numeric bounds set from measured spread: prints "measured <what> <value> bound <bound>" when
// SEGTUNE_PRINT_MEASURED is set, so tools/parity_spread.sh can collect the worst case of every bound
// across instruction sets. Returns value.
inline double ReportMeasured(const std::string& what, double value, double bound) {
  if (std::getenv("SEGTUNE_PRINT_MEASURED") != nullptr) {
    std::printf("measured %s %.3e bound %.3e\n", what.c_str(), value, bound);
  }
  return value;
}

// The same for a floor (a score that must stay above it): prints "measured-floor <what> <value> floor
// <floor>"; tools/parity_spread.sh keeps the lowest value.
inline double ReportMeasuredFloor(const std::string& what, double value, double floor) {
  if (std::getenv("SEGTUNE_PRINT_MEASURED") != nullptr) {
    std::printf("measured-floor %s %.4g floor %.4g\n", what.c_str(), value, floor);
  }
  return value;
}

inline std::string SourcePath(const std::string& relative) {
  return std::string(SEGTUNE_SOURCE_DIR) + "/" + relative;
}

// True under CI=true (set by GitHub Actions, GitLab CI and most CI systems).
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

}  // namespace segtune::testing

// For a test-only dependency that a developer's machine may lack (onnxruntime-node): skips the test
// with `why`, except under CI=true, where it fails. A CI run that skipped the ONNX Runtime checks would
// pass while checking less; a skip is easy to miss among hundreds of passing tests.
#define SEGTUNE_REQUIRE_TEST_DEPENDENCY(available, why)                                            \
  do {                                                                                             \
    if (!(available)) {                                                                            \
      if (::segtune::testing::InCi()) FAIL() << (why) << " (a missing test dependency fails under CI=true)"; \
      GTEST_SKIP() << (why);                                                                       \
    }                                                                                              \
  } while (0)

namespace segtune::testing {

}  // namespace segtune::testing
