// Shared by the TFRecord harnesses: reads a file's records both ways a verb does (stop at the first
// problem, and skip corrupt records).
#pragma once

#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "segtune/data/tfrecord.h"

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

}  // namespace segtune::fuzz
