// CRC32C (Castagnoli) as used by TFRecord framing, and TensorFlow's CRC masking.
//
// crc32c("123456789") == 0xE3069283. Uses the SSE4.2 crc32 instruction when the CPU has it and a
// slicing-by-8 table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace segtune {

// Continues a CRC32C over `n` more bytes. Start with crc = 0 (the init/final xor are applied inside,
// so Crc32cExtend(Crc32cExtend(0, a), b) == Crc32c(a + b)).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data.data(), data.size()); }

// TFRecord stores masked CRCs so that a CRC of data that itself contains CRCs stays well mixed.
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace segtune
