// .safetensors files: the u64 header length, the JSON header (dtypes, shapes, data_offsets,
// __metadata__) and the tensor data it points into.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/models/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const auto bytes = fuzz::AsText(data, size);
  LooksLikeSafetensors(bytes, size);
  fuzz::ExpectCleanOutcome([&] { ParseSafetensors(bytes, "fuzz.safetensors"); });
  return 0;
}
