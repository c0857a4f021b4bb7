#include "segtune/formats/exif_orientation.h"

#include <cstdint>
#include <algorithm>
#include <cstring>

#include "segtune/formats/byte_order.h"

namespace segtune {
namespace {

constexpr int kAsStored = 1;
constexpr uint32_t kOrientationTag = 0x0112;
constexpr uint32_t kShortType = 3;

// The orientation in a TIFF structure (the APP1 payload after "Exif\0\0"): byte order "II" or "MM",
// 42, the offset of IFD0, then IFD0's 12-byte entries (tag, type, count, value).
int TiffOrientation(const uint8_t* tiff, size_t n) {
  if (n < 8) return kAsStored;
  const bool little = std::memcmp(tiff, "II", 2) == 0;
  if (!little && std::memcmp(tiff, "MM", 2) != 0) return kAsStored;
  const auto u16 = [&](size_t at) { return little ? Le16(tiff + at) : Be16(tiff + at); };
  const auto u32 = [&](size_t at) { return little ? Le32(tiff + at) : Be32(tiff + at); };
  if (u16(2) != 42) return kAsStored;
  const size_t ifd = u32(4);
  if (ifd < 8 || ifd > n - 2) return kAsStored;
  const size_t entries = u16(ifd);
  for (size_t k = 0; k < entries; ++k) {
    const size_t entry = ifd + 2 + 12 * k;
    if (entry + 12 > n) return kAsStored;
    if (u16(entry) != kOrientationTag) continue;
    if (u16(entry + 2) != kShortType || u32(entry + 4) != 1) return kAsStored;
    const uint32_t value = u16(entry + 8);  // A SHORT sits at the start of the 4-byte value field.
    return value >= 1 && value <= 8 ? int(value) : kAsStored;
  }
  return kAsStored;
}

}  // namespace

int JpegExifOrientation(std::string_view jpeg_head) {
  const auto* p = reinterpret_cast<const uint8_t*>(jpeg_head.data());
  const size_t n = jpeg_head.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return kAsStored;
  size_t i = 2;
  while (i + 4 <= n && p[i] == 0xFF) {
    const uint8_t marker = p[i + 1];
    if (marker == 0xFF) {  // Fill byte.
      ++i;
      continue;
    }
    // The frame header, scan data or the end: no APP1 comes after these.
    if ((marker >= 0xC0 && marker <= 0xCF) || marker == 0xDA || marker == 0xD9) return kAsStored;
    const size_t length = Be16(p + i + 2);  // Counts its own 2 bytes.
    if (length < 2) return kAsStored;
    const size_t payload = i + 4, payload_size = length - 2;
    if (marker == 0xE1 && payload_size >= 6 && payload + 6 <= n && std::memcmp(p + payload, "Exif\0\0", 6) == 0) {
      const size_t end = std::min(n, payload + payload_size);
      return TiffOrientation(p + payload + 6, end - (payload + 6));
    }
    i = payload + payload_size;
  }
  return kAsStored;
}

}  // namespace segtune
