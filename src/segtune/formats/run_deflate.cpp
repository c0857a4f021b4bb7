#include "segtune/formats/run_deflate.h"

#include <array>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace segtune {
namespace {

constexpr uint64_t kAdlerModulus = 65521;
constexpr uint32_t kMaxMatch = 258;
constexpr uint32_t kMinMatch = 3;

// Deflate writes Huffman codes most significant bit first into an LSB-first bit stream.
uint32_t Reverse(uint32_t code, int bits) {
  uint32_t out = 0;
  for (int i = 0; i < bits; ++i) out |= ((code >> i) & 1u) << (bits - 1 - i);
  return out;
}

struct Code {
  uint32_t bits = 0;  // Ready to write LSB first.
  int length = 0;
};

// RFC 1951 3.2.6: the fixed literal/length code.
Code FixedLiteralCode(int symbol) {
  if (symbol < 144) return {Reverse(0x30 + symbol, 8), 8};
  if (symbol < 256) return {Reverse(0x190 + symbol - 144, 9), 9};
  if (symbol < 280) return {Reverse(symbol - 256, 7), 7};
  return {Reverse(0xC0 + symbol - 280, 8), 8};
}

// Literal codes for bytes 0..255, and for match lengths 3..258 the whole "length symbol + extra
// bits + distance code 0 (distance 1, five zero bits)" sequence.
struct FixedTables {
  std::array<Code, 256> literal;
  std::array<Code, kMaxMatch + 1> match;
  Code end_of_block;
  FixedTables() {
    for (int b = 0; b < 256; ++b) literal[b] = FixedLiteralCode(b);
    static const int kBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const int kExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    for (uint32_t length = kMinMatch; length <= kMaxMatch; ++length) {
      int s = 28;
      while (kBase[s] > int(length)) --s;  // 258 takes symbol 285, never 284 + 31.
      const Code symbol = FixedLiteralCode(257 + s);
      const uint32_t extra = length - uint32_t(kBase[s]);
      match[length] = {symbol.bits | (extra << symbol.length), symbol.length + kExtra[s] + 5};
    }
    end_of_block = FixedLiteralCode(256);
  }
};

const FixedTables& Tables() {
  static const FixedTables tables;
  return tables;
}

class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}
  void Put(Code code) {
    acc_ |= uint64_t(code.bits) << count_;
    count_ += code.length;
    while (count_ >= 8) {
      out_->push_back(char(acc_ & 0xFF));
      acc_ >>= 8;
      count_ -= 8;
    }
  }
  void FlushByte() {
    if (count_ > 0) out_->push_back(char(acc_ & 0xFF));
    acc_ = 0;
    count_ = 0;
  }

 private:
  std::string* out_;
  uint64_t acc_ = 0;
  int count_ = 0;
};

// Collects the byte stream as runs, codes each finished run and keeps the Adler-32 up to date.
class RunCoder {
 public:
  // Starts the single block: BFINAL = 1, BTYPE = 01 (fixed Huffman codes).
  explicit RunCoder(std::string* out) : bits_(out), tables_(Tables()) { bits_.Put({3, 3}); }

  void Add(uint8_t value, uint64_t count) {
    if (count == 0) return;
    if (count_ > 0 && value == value_) {
      count_ += count;
      return;
    }
    Flush();
    value_ = value;
    count_ = count;
  }

  void Flush() {
    if (count_ == 0) return;
    UpdateAdler(value_, count_);
    bits_.Put(tables_.literal[value_]);
    uint64_t left = count_ - 1;  // Copies of the byte just written: matches at distance 1.
    while (left >= kMinMatch) {
      uint32_t length = uint32_t(left < kMaxMatch ? left : kMaxMatch);
      if (left - length > 0 && left - length < kMinMatch) length -= kMinMatch;  // Keep the rest codable.
      bits_.Put(tables_.match[length]);
      left -= length;
    }
    for (; left > 0; --left) bits_.Put(tables_.literal[value_]);
    count_ = 0;
  }

  void Finish() {
    Flush();
    bits_.Put(tables_.end_of_block);
    bits_.FlushByte();
  }

  uint32_t adler() const { return uint32_t(s2_ << 16 | s1_); }

 private:
  // Adler-32 of `count` copies of `value`: s1 += v*n, s2 += n*s1 + v*n(n+1)/2 (mod 65521).
  void UpdateAdler(uint8_t value, uint64_t count) {
    const uint64_t n = count % kAdlerModulus;
    const uint64_t triangle = count % 2 == 0 ? (count / 2 % kAdlerModulus) * ((count + 1) % kAdlerModulus)
                                             : (count % kAdlerModulus) * ((count + 1) / 2 % kAdlerModulus);
    s2_ = (s2_ + n * s1_ + value * (triangle % kAdlerModulus)) % kAdlerModulus;
    s1_ = (s1_ + value * n) % kAdlerModulus;
  }

  BitWriter bits_;
  const FixedTables& tables_;
  uint8_t value_ = 0;
  uint64_t count_ = 0;
  uint64_t s1_ = 1, s2_ = 0;
};

// Length of the run of p[0] starting at p (at most n), sixteen bytes at a time.
size_t RunLength(const uint8_t* p, size_t n) {
  size_t i = 1;
#if defined(__SSE2__)
  const __m128i pattern = _mm_set1_epi8(char(p[0]));
  while (i + 16 <= n) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned differ = ~unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(block, pattern))) & 0xFFFFu;
    if (differ) return i + size_t(__builtin_ctz(differ));
    i += 16;
  }
#endif
  while (i < n && p[i] == p[0]) ++i;
  return i;
}

struct Run {
  uint8_t value;
  uint32_t count;
};

// The runs of one row, appended to *runs.
void ScanRow(const uint8_t* row, size_t w, std::vector<Run>* runs) {
  runs->clear();
  for (size_t x = 0; x < w;) {
    const size_t n = RunLength(row + x, w - x);
    runs->push_back({row[x], uint32_t(n)});
    x += n;
  }
}

}  // namespace

std::string DeflateGrayScanlines(const uint8_t* pixels, int height, int width) {
  std::string out;
  out.reserve(64 + size_t(height) * 8);
  out.push_back(char(0x78));  // CMF: deflate, 32 KiB window.
  out.push_back(char(0x01));  // FLG: no dictionary, check bits make CMF*256+FLG a multiple of 31.
  RunCoder coder(&out);
  const size_t w = size_t(width);
  std::vector<Run> runs;
  for (int y = 0; y < height; ++y) {
    coder.Add(0, 1);  // Filter type None.
    const uint8_t* row = pixels + size_t(y) * w;
    // Masks repeat rows (all background above and below an object): one memcmp instead of a scan.
    if (y == 0 || std::memcmp(row, row - w, w) != 0) ScanRow(row, w, &runs);
    for (const Run& r : runs) coder.Add(r.value, r.count);
  }
  coder.Finish();
  const uint32_t adler = coder.adler();
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((adler >> shift) & 0xFF));
  return out;
}

}  // namespace segtune
