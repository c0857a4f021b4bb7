#include "segtune/core/error.h"

#include <cerrno>
#include <cstring>

namespace segtune {

IoError::IoError(const std::filesystem::path& path, const std::string& what)
    : Error(path.string() + ": " + what + (errno ? std::string(" (") + std::strerror(errno) + ")" : "")) {}

}  // namespace segtune
