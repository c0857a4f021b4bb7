// Writes torch.save-compatible zip archives. SavePth (declared in weights.h) is the entry point;
// this header exposes the pieces for tests.
#pragma once

#include <string>

#include <torch/types.h>

namespace segtune {

// The torch storage class for a dtype ("FloatStorage", "LongStorage", ...); "" if torch has none.
std::string TorchStorageClass(torch::Dtype dtype);

}  // namespace segtune
