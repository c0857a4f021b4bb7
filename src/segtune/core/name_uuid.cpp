#include "segtune/core/name_uuid.h"

#include "segtune/core/sha256.h"

namespace segtune {

std::string NameBasedUuid(std::string_view name) {
  std::array<uint8_t, 32> hash = Sha256(name);
  hash[6] = static_cast<uint8_t>((hash[6] & 0x0f) | 0x80);  // Version 8.
  hash[8] = static_cast<uint8_t>((hash[8] & 0x3f) | 0x80);  // Variant 10.
  static const char* kHex = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[hash[i] >> 4];
    text += kHex[hash[i] & 0x0f];
  }
  return text;
}

}  // namespace segtune
