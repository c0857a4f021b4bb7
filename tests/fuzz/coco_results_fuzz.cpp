// COCO results files (a JSON array of detections with score), as `coco-eval` and `eval` read them.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/coco.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const fuzz::MemFile file(fuzz::AsText(data, size));
  fuzz::ExpectCleanOutcome([&] { LoadCocoResults(file.path()); });
  return 0;
}
