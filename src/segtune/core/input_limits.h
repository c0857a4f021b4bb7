// Process-wide limits on what one untrusted input item may make segtune allocate, and whether
// corrupt records are skipped. The CLI sets them once from --max-pixels, --max-record-bytes and
// --skip-corrupt before any input is read; library code reads them where it decodes, so every
// decoder enforces the same limits without each verb threading them through its options.
#pragma once

#include <cstdint>
#include <string>

namespace segtune {

// 2^26 pixels (e.g. 8192x8192, 67 megapixels: every camera sensor up to medium format). The
// decoders need up to ~9 bytes per pixel at once for a 3-channel 8-bit image (a progressive JPEG's
// 6 bytes of DCT coefficients per pixel plus the 3-byte output; a 16-bit RGBA PNG's 8 bytes before
// conversion), so this keeps a single decode under ~600 MB; 2^27 would allow ~1.2 GB.
constexpr int64_t kDefaultMaxImagePixels = int64_t(1) << 26;
// 256 MiB: more than any tf.train.Example holding one image within kDefaultMaxImagePixels (3 bytes
// per pixel, 192 MiB, even stored uncompressed) plus its masks, and small enough that a record, its
// parsed copy and a decode stay under 1 GB. A compressed TFRecord can claim any length; this is
// what it may actually make the reader hold.
constexpr uint64_t kDefaultMaxRecordBytes = uint64_t(1) << 28;

struct InputLimits {
  int64_t max_image_pixels = kDefaultMaxImagePixels;  // width * height of any image decoded.
  uint64_t max_record_bytes = kDefaultMaxRecordBytes;  // Data bytes of one TFRecord record.
  bool skip_corrupt_records = false;                   // Default of TFRecordReaderOptions::skip_corrupt.
};

InputLimits GetInputLimits();
// Throws UsageError for a limit < 1.
void SetInputLimits(const InputLimits& limits);

// "2^26 (67,108,864)" style text for messages about a limit.
std::string DescribeLimit(uint64_t value);

}  // namespace segtune
