#include "segtune/data/convert/file_head.h"

#include <algorithm>
#include <fstream>

namespace segtune {

std::string FileHead(const std::filesystem::path& file, size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  std::string head(max_bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return head;
}

char FirstNonBlank(const std::string& text) {
  const size_t i = text.find_first_not_of(" \t\r\n");
  return i == std::string::npos ? '\0' : text[i];
}

}  // namespace segtune
