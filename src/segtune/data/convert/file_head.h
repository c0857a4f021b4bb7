// What detect() functions read: a few KB from the start of a file, never the whole file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace segtune {

// The first `max_bytes` bytes of a file ("" if unreadable).
std::string FileHead(const std::filesystem::path& file, size_t max_bytes = 4096);
// The first non-blank character of `text`, or '\0'.
char FirstNonBlank(const std::string& text);

}  // namespace segtune
