#include "segtune/core/prefetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace segtune {

void PrefetchFile(const std::filesystem::path& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // NONBLOCK: a FIFO never blocks.
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const uint64_t bytes = std::min<uint64_t>(static_cast<uint64_t>(st.st_size), max_bytes);
    ::posix_fadvise(fd, 0, static_cast<off_t>(bytes), POSIX_FADV_WILLNEED);  // Queues the reads; no wait.
  }
  ::close(fd);  // The pages stay in the cache (they belong to the file, not to this descriptor).
}

void PrefetchModel(const std::filesystem::path& model) {
  constexpr uint64_t kMaxModelBytes = uint64_t(1) << 30;
  std::error_code ec;
  if (std::filesystem::is_directory(model, ec)) {
    PrefetchFile(model / "model.json", kMaxModelBytes);
    PrefetchFile(model / "model.safetensors", kMaxModelBytes);
  } else {
    PrefetchFile(model, kMaxModelBytes);
  }
}

void PrefetchInputs(const std::vector<std::string>& inputs) {
  constexpr size_t kMaxInputs = 64;
  constexpr uint64_t kMaxInputBytes = uint64_t(64) << 20;
  for (size_t i = 0; i < inputs.size() && i < kMaxInputs; ++i) PrefetchFile(inputs[i], kMaxInputBytes);
}

}  // namespace segtune
