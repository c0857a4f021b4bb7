// Shared by the TFRecord harnesses: reads a file's records both ways a verb does (stop at the first
// problem, and skip corrupt records).
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "segtune/formats/tfrecord.h"

namespace segtune::fuzz {

inline void ReadEveryRecord(std::string_view file_bytes) {
  const MemFile file(file_bytes);
  for (const bool skip_corrupt : {false, true}) {
    ExpectCleanOutcome([&] {
      TFRecordReaderOptions options;
      options.skip_corrupt = skip_corrupt;
      TFRecordReader reader(file.path(), options);
      std::string record;
      while (reader.Next(&record)) {
      }
    });
  }
}

// Compresses `data` (a decompressed record stream) with zlib's `window_bits` (15: ZLIB, 15 + 16: GZIP)
// and reads the records of the result. Compressing here lets mutations reach the framing checks behind
// the decompressor: a mutated compressed file would almost never inflate.
inline void ReadEveryRecordCompressed(const uint8_t* data, size_t size, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
  std::string compressed(deflateBound(&zs, uLong(size)), '\0');
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = uInt(size);
  zs.next_out = reinterpret_cast<Bytef*>(compressed.data());
  zs.avail_out = uInt(compressed.size());
  const int status = deflate(&zs, Z_FINISH);
  compressed.resize(zs.total_out);
  deflateEnd(&zs);
  if (status == Z_STREAM_END) ReadEveryRecord(compressed);
}

}  // namespace segtune::fuzz
