#include "segtune/data/convert/image_file_size.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/exif_orientation.h"

namespace segtune {

std::optional<ImageSize> ReadImageFileSize(const std::filesystem::path& path) {
  const std::optional<ImageFileHeader> header = ReadImageFileHeader(path);
  if (!header) return std::nullopt;
  return header->size;
}

std::optional<ImageFileHeader> ReadImageFileHeader(const std::filesystem::path& path) {
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
  const auto header_of = [](std::string_view bytes) -> std::optional<ImageFileHeader> {
    const std::optional<ImageSize> size = ReadImageSize(bytes);
    if (!size) return std::nullopt;
    return ImageFileHeader{*size, JpegExifOrientation(bytes)};
  };
  std::optional<ImageFileHeader> header = header_of(std::string_view(head.data(), size_t(n)));
  if (header || size_t(n) < kHead) return header;
  try {  // A JPEG whose SOF comes after 16 KB of metadata: read it whole.
    return header_of(ReadFile(path));
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace segtune
