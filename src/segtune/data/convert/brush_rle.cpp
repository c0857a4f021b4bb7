#include "segtune/data/convert/brush_rle.h"

#include <array>

#include "segtune/core/error.h"

namespace segtune {
namespace {

// Run-length field sizes in bits, selected per chunk by a 2-bit code (Label Studio's defaults).
constexpr std::array<int, 4> kRunBits = {3, 4, 8, 16};

// Bits are read most significant first within each byte.
class BitReader {
 public:
  BitReader(const std::vector<uint8_t>& bytes, const std::string& source) : bytes_(bytes), source_(source) {}
  uint32_t Read(int bits) {
    if (pos_ + uint64_t(bits) > uint64_t(bytes_.size()) * 8) {
      throw FormatError(source_ + ": brush RLE ends early (at bit " + std::to_string(pos_) + " of " +
                        std::to_string(bytes_.size() * 8) + ")");
    }
    uint32_t v = 0;
    for (int i = 0; i < bits; ++i, ++pos_) v = (v << 1) | ((bytes_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u);
    return v;
  }

 private:
  const std::vector<uint8_t>& bytes_;
  const std::string& source_;
  uint64_t pos_ = 0;
};

class BitWriter {
 public:
  void Write(uint32_t v, int bits) {
    for (int i = bits - 1; i >= 0; --i, ++pos_) {
      if ((pos_ & 7) == 0) bytes_.push_back(0);
      if ((v >> i) & 1u) bytes_.back() |= uint8_t(0x80u >> (pos_ & 7));
    }
  }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
  uint64_t pos_ = 0;
};

// The smallest size code whose field holds `n` (a count minus one).
uint32_t SizeCode(uint32_t n) {
  for (uint32_t t = 0; t < 3; ++t) {
    if (n < (1u << kRunBits[t])) return t;
  }
  return 3;
}

}  // namespace

std::vector<uint8_t> DecodeBrushRle(const std::vector<uint8_t>& bytes, uint64_t max_values, const std::string& source) {
  BitReader in(bytes, source);
  const uint32_t num = in.Read(32);
  const int word_bits = int(in.Read(5)) + 1;
  std::array<int, 4> run_bits{};
  for (int& b : run_bits) b = int(in.Read(4)) + 1;
  if (word_bits > 8) throw FormatError(source + ": brush RLE word size " + std::to_string(word_bits) + " bits (expected <= 8)");
  if (num > max_values) {
    throw FormatError(source + ": brush RLE holds " + std::to_string(num) + " values, expected " +
                      std::to_string(max_values) + " (original_width x original_height x 4)");
  }
  std::vector<uint8_t> out(num);
  for (uint64_t i = 0; i < num;) {
    const bool repeat = in.Read(1) != 0;
    const uint64_t end = i + 1 + in.Read(run_bits[in.Read(2)]);
    if (end > num) throw FormatError(source + ": brush RLE chunk at value " + std::to_string(i) + " runs past the end");
    if (repeat) {
      const uint8_t v = uint8_t(in.Read(word_bits));
      for (; i < end; ++i) out[i] = v;
    } else {
      for (; i < end; ++i) out[i] = uint8_t(in.Read(word_bits));
    }
  }
  return out;
}

std::vector<uint8_t> EncodeBrushRle(const std::vector<uint8_t>& values) {
  constexpr size_t kMaxChunk = size_t(1) << 16;
  BitWriter out;
  out.Write(uint32_t(values.size()), 32);
  out.Write(8 - 1, 5);
  for (int b : kRunBits) out.Write(uint32_t(b - 1), 4);
  const size_t n = values.size();
  auto run_at = [&](size_t i) {
    size_t j = i + 1;
    while (j < n && j - i < kMaxChunk && values[j] == values[i]) ++j;
    return j - i;
  };
  for (size_t i = 0; i < n;) {
    const size_t run = run_at(i);
    if (run >= 2) {
      out.Write(1, 1);
      out.Write(SizeCode(uint32_t(run - 1)), 2);
      out.Write(uint32_t(run - 1), kRunBits[SizeCode(uint32_t(run - 1))]);
      out.Write(values[i], 8);
      i += run;
      continue;
    }
    size_t end = i + 1;  // A literal chunk up to the next run of 2 or more.
    while (end < n && end - i < kMaxChunk && run_at(end) < 2) ++end;
    const uint32_t m = uint32_t(end - i - 1);
    out.Write(0, 1);
    out.Write(SizeCode(m), 2);
    out.Write(m, kRunBits[SizeCode(m)]);
    for (; i < end; ++i) out.Write(values[i], 8);
  }
  return out.Take();
}

}  // namespace segtune
