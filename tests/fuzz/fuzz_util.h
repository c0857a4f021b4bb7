// Helpers for the libFuzzer harnesses (tests/fuzz/*_fuzz.cpp). Each harness defines
// LLVMFuzzerTestOneInput; it is linked either with libFuzzer (`make fuzz`, clang) or with
// corpus_main.cpp (the regular build, g++), which runs every corpus file through it as a CTest test.
//
// A harness catches segtune::Error only: that is the documented way for a parser to reject input.
// Anything else escaping (std::out_of_range, nlohmann::json::exception, c10::Error, bad_alloc ...) is
// a finding: the CLI would print a raw library message without file or record, or crash.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "segtune/core/error.h"

namespace segtune::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// The input as a file the parsers can open by path (they take paths, as the verbs do). An anonymous
// in-memory file (memfd) reached through /proc/self/fd: no disk writes, nothing left behind after a
// crash, and no clash between fuzzing processes.
class MemFile {
 public:
  explicit MemFile(std::string_view bytes) {
    fd_ = ::memfd_create("segtune-fuzz", MFD_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("memfd_create failed");
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) throw std::runtime_error("memfd write failed");
      done += size_t(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// Runs `parse`, accepting a segtune::Error as a clean rejection of the input.
template <typename F>
void ExpectCleanOutcome(F&& parse) {
  try {
    parse();
  } catch (const segtune::Error&) {
  }
}

}  // namespace segtune::fuzz
