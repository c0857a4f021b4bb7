#include "segtune/data/convert/image_file_size.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {

std::optional<ImageSize> ReadImageFileSize(const std::filesystem::path& path) {
  // PNG, GIF, BMP, WebP need 30 bytes; a JPEG's SOF follows its EXIF, usually within 16 KB. POSIX
  // open + read: thousands of headers are read per conversion, and std::ifstream costs twice the calls.
  constexpr size_t kHead = 16384;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  thread_local std::string head;
  head.resize(kHead);
  ssize_t n;
  do {
    n = ::pread(fd, head.data(), kHead, 0);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n < 0) return std::nullopt;
  const std::optional<ImageSize> size = ReadImageSize(std::string_view(head.data(), size_t(n)));
  if (size || size_t(n) < kHead) return size;
  try {  // A JPEG whose SOF comes after 16 KB of metadata: read it whole.
    return ReadImageSize(ReadFile(path));
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace segtune
