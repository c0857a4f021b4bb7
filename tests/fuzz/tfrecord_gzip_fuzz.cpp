// TFRecord framing inside a GZIP stream: the input is the *decompressed* record stream, compressed
// here, so mutations reach the framing checks behind the decompressor (a mutated compressed file
// would almost never inflate). Corrupt compressed streams come from the plain harness's seeds.
#include <cstddef>
#include <cstdint>

#include "tfrecord_fuzz_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  segtune::fuzz::ReadEveryRecordCompressed(data, size, /*window_bits=*/15 + 16);
  return 0;
}
