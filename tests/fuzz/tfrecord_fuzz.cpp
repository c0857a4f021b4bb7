// TFRecord framing of a file as given (plain, or GZIP/ZLIB detected from its first bytes): lengths,
// CRCs, truncation, and the skip-corrupt resynchronisation.
#include "fuzz_util.h"
#include "tfrecord_fuzz_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  segtune::fuzz::ReadEveryRecord(segtune::fuzz::AsText(data, size));
  return 0;
}
