// TF Object Detection API label maps (protobuf text format, binary fallback): parse, validate,
// write back, parse the written text again.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/label_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  fuzz::ExpectCleanOutcome([&] {
    const LabelMap map = ParseLabelMap(fuzz::AsText(data, size), "fuzz.pbtxt");
    ValidateLabelMap(map);
    LabelMapNameToId(map);
    ParseLabelMap(LabelMapToText(map), "fuzz.pbtxt (rewritten)");
  });
  return 0;
}
