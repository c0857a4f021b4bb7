// A record's payload: the tf.Example protobuf wire format, then the TF Object Detection API keys read
// from it and the semantic training target built from it (what train/eval/infer do per record).
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/example.h"
#include "segtune/formats/od_example.h"
#include "segtune/data/semantic_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  fuzz::ExpectCleanOutcome([&] {
    const tensorflow::Example example = ParseExample(fuzz::AsText(data, size), "fuzz.record: record 0");
    const ObjectDetectionExample od = ParseObjectDetectionExample(example, "fuzz.record: record 0");
    // The target is as large as the record says the image is; keep that small here (the size limits
    // themselves are checked where images are decoded).
    if (od.height > 0 && od.width > 0 && od.height <= 512 && od.width <= 512)
      SemanticTarget(od, int(od.height), int(od.width), "fuzz.record: record 0", {{"cat", 1}, {"dog", 2}});
  });
  return 0;
}
