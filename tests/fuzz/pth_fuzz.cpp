// torch.save zip archives (.pth / .pt): the zip directory and records (formats/zip_reader), the
// declared-size limits and CRCs, the data.pkl unpickler and the tensor views' checks against their
// storages (formats/pth_zip). LibTorch-free: the torch side (models/pth_reader) only copies bytes.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/pth_zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const auto bytes = fuzz::AsText(data, size);
  LooksLikeZip(bytes);
  LooksLikeLegacyTorchSave(bytes);
  for (bool shapes_only : {false, true}) {
    fuzz::ExpectCleanOutcome([&] { ReadPthStateDict(bytes, "fuzz.pth", shapes_only); });
  }
  return 0;
}
