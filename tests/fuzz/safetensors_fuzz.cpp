// .safetensors files: the u64 header length, the JSON header (dtypes, shapes, data_offsets,
// __metadata__) and the tensor data it points into. LibTorch-free: formats/safetensors only.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const auto bytes = fuzz::AsText(data, size);
  LooksLikeSafetensors(bytes, size);
  fuzz::ExpectCleanOutcome([&] { ParseSafetensorsContents(bytes, "fuzz.safetensors"); });
  return 0;
}
