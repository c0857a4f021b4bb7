// The unpickler alone (a data.pkl as torch.save writes it, or a plain pickle such as ADE20K's
// index_ade20k.pkl), without the zip around it, so mutations reach the opcodes directly. Persistent
// ids resolve to a small float storage, as the .pth reader's loader does for a storage record that
// exists. Each input runs twice: with the defaults and with the bounds the ADE20K reader sets.
// LibTorch-free: formats/pickle only.
#include <cstdint>

#include "fuzz_util.h"
#include "segtune/formats/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const PersistentLoader load = [](const PickleValue& pid) {
    if (pid.kind != PickleValue::Kind::kTuple) throw FormatError("fuzz.pth: data.pkl: persistent id is not a tuple");
    auto value = PickleValue::Make(PickleValue::Kind::kStorage);
    value->storage = {"0", TensorDtype::kF32, 16};
    return value;
  };
  fuzz::ExpectCleanOutcome([&] { Unpickle(fuzz::AsText(data, size), load, "fuzz.pth: data.pkl"); });
  UnpickleOptions bounded;
  bounded.max_kept_bytes = 16;
  bounded.max_values = 1 << 16;
  fuzz::ExpectCleanOutcome([&] { Unpickle(fuzz::AsText(data, size), load, "fuzz.pkl", bounded); });
  return 0;
}
