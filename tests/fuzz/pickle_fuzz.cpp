// The unpickler alone (a data.pkl as torch.save writes it), without the zip around it, so mutations
// reach the opcodes directly. Persistent ids resolve to a small storage tensor, as ReadPth's loader
// does for a storage record that exists.
#include <torch/torch.h>

#include <cstdint>

#include "fuzz_util.h"
#include "segtune/models/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const PersistentLoader load = [](const PickleValue& pid) {
    if (pid.kind != PickleValue::Kind::kTuple) throw FormatError("fuzz.pth: data.pkl: persistent id is not a tuple");
    auto value = PickleValue::Make(PickleValue::Kind::kTensor);
    value->tensor = torch::zeros({16}, torch::kFloat);
    return value;
  };
  fuzz::ExpectCleanOutcome([&] { Unpickle(fuzz::AsText(data, size), load, "fuzz.pth: data.pkl"); });
  return 0;
}
