#include "segtune/core/input_limits.h"

#include <atomic>

#include "segtune/core/error.h"
#include "segtune/core/log.h"

namespace segtune {
namespace {

// Set once before the work starts, read from decoding threads: atomics keep that well defined.
std::atomic<int64_t> g_max_pixels{kDefaultMaxImagePixels};
std::atomic<uint64_t> g_max_record_bytes{kDefaultMaxRecordBytes};
std::atomic<bool> g_skip_corrupt{false};

}  // namespace

InputLimits GetInputLimits() {
  InputLimits limits;
  limits.max_image_pixels = g_max_pixels.load();
  limits.max_record_bytes = g_max_record_bytes.load();
  limits.skip_corrupt_records = g_skip_corrupt.load();
  return limits;
}

void SetInputLimits(const InputLimits& limits) {
  if (limits.max_image_pixels < 1) throw UsageError("--max-pixels must be at least 1");
  if (limits.max_record_bytes < 1) throw UsageError("--max-record-bytes must be at least 1");
  g_max_pixels = limits.max_image_pixels;
  g_max_record_bytes = limits.max_record_bytes;
  g_skip_corrupt = limits.skip_corrupt_records;
}

std::string DescribeLimit(uint64_t value) {
  std::string text = WithCommas(static_cast<long long>(value));
  for (int bit = 10; bit < 63; ++bit) {
    if (value == uint64_t(1) << bit) return "2^" + std::to_string(bit) + " (" + text + ")";
  }
  return text;
}

}  // namespace segtune
