// TFRecord framing inside a GZIP stream: the input is the *decompressed* record stream, compressed
// here, so mutations reach the framing checks behind the decompressor (a mutated compressed file
// would almost never inflate). Corrupt compressed streams come from the plain harness's seeds.
#include <zlib.h>

#include <string>

#include "fuzz_util.h"
#include "tfrecord_fuzz_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  std::string compressed(deflateBound(&zs, uLong(size)), '\0');
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = uInt(size);
  zs.next_out = reinterpret_cast<Bytef*>(compressed.data());
  zs.avail_out = uInt(compressed.size());
  const int status = deflate(&zs, Z_FINISH);
  compressed.resize(zs.total_out);
  deflateEnd(&zs);
  if (status != Z_STREAM_END) return 0;
  segtune::fuzz::ReadEveryRecord(compressed);
  return 0;
}
