#include "segtune/data/convert/image_file_size.h"

#include <fstream>
#include <string>

namespace segtune {

std::optional<ImageSize> ReadImageFileSize(const std::filesystem::path& path) {
  constexpr size_t kHead = 16384;  // PNG, GIF, BMP, WebP need 30 bytes; a JPEG's SOF follows its EXIF.
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes(kHead, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  std::optional<ImageSize> size = ReadImageSize(bytes);
  if (size || bytes.size() < kHead) return size;
  bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return ReadImageSize(bytes);
}

}  // namespace segtune
