// COCO JSON (instances files): images, categories, annotations with polygons, RLE strings and RLE
// counts, then the round trip through the writer.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/coco.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  fuzz::ExpectCleanOutcome([&] {
    const CocoDataset dataset = ParseCoco(fuzz::AsText(data, size), "fuzz.json");
    // What segtune writes back must parse again.
    ParseCoco(CocoToJson(dataset), "fuzz.json (rewritten)");
  });
  return 0;
}
