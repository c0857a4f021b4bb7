// SHA-256 (FIPS 180-4), used for the image/key/sha256 feature of TF OD API records.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace segtune {

std::array<uint8_t, 32> Sha256(std::string_view data);
// Lowercase hex of Sha256(data), as Python's hashlib.sha256(data).hexdigest().
std::string Sha256Hex(std::string_view data);

}  // namespace segtune
