// SHA-256 (FIPS 180-4): the image/key/sha256 feature of TF OD API records and the checksums of
// downloaded model-zoo files. The one implementation in segtune (libcrypto).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace segtune {

std::array<uint8_t, 32> Sha256(std::string_view data);
// Lowercase hex of Sha256(data), as Python's hashlib.sha256(data).hexdigest().
std::string Sha256Hex(std::string_view data);
// Lowercase hex SHA-256 of a file's bytes, read in 1 MiB chunks (files may be larger than memory).
// Throws IoError (naming the file) if it cannot be opened or read.
std::string Sha256OfFile(const std::filesystem::path& path);

}  // namespace segtune
