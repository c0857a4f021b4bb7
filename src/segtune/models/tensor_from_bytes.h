// The torch side of the weight file formats: formats/ describes tensors as raw bytes and a
// TensorDtype (formats/tensor_dtype.h); this maps those to torch tensors and back.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <torch/types.h>

#include "segtune/formats/tensor_dtype.h"

namespace segtune {

// The torch dtype of a loadable TensorDtype (IsLoadable). Throws FormatError for the others.
torch::Dtype ToTorchDtype(TensorDtype dtype);
// The TensorDtype of a torch dtype; false if weight files here cannot store it.
bool FromTorchDtype(torch::Dtype torch_dtype, TensorDtype* dtype);

// A new CPU tensor of `shape` holding a copy of `data` (C order, little-endian, exactly
// prod(shape) * ElementSize(dtype) bytes: the caller has checked the size).
torch::Tensor TensorFromBytes(TensorDtype dtype, const std::vector<int64_t>& shape, std::string_view data);

// The bytes of a contiguous CPU tensor (valid while it lives).
std::string_view BytesOf(const torch::Tensor& contiguous_cpu);

}  // namespace segtune
