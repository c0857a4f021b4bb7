// torch.save zip archives (.pth / .pt): the zip directory (libtorch's reader), the record CRCs, the
// data.pkl unpickler and the tensor rebuild from storages.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/models/pth_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const auto bytes = fuzz::AsText(data, size);
  LooksLikeZip(bytes);
  LooksLikeLegacyTorchSave(bytes);
  const fuzz::MemFile file(bytes);
  fuzz::ExpectCleanOutcome([&] { ReadPth(file.path()); });
  return 0;
}
