// Unsigned integers stored in a fixed byte order in file headers (PNG chunks and IHDR are
// big-endian; BMP and WebP headers little-endian). The caller checks that the bytes are there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace segtune {

inline uint32_t Be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }
inline uint32_t Be32(const uint8_t* p) { return Be16(p) << 16 | Be16(p + 2); }
inline uint32_t Le16(const uint8_t* p) { return uint32_t(p[1]) << 8 | p[0]; }
inline uint32_t Le24(const uint8_t* p) { return uint32_t(p[2]) << 16 | Le16(p); }
inline uint32_t Le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | Le24(p); }

// bytes[at, at + 4) as a big-endian number.
inline uint32_t Be32(std::string_view bytes, size_t at) {
  return Be32(reinterpret_cast<const uint8_t*>(bytes.data()) + at);
}

}  // namespace segtune
