#include "segtune/models/tensor_from_bytes.h"

#include <torch/torch.h>

#include <cstring>

#include "segtune/core/error.h"

namespace segtune {
namespace {

struct Pair {
  TensorDtype dtype;
  torch::Dtype torch_dtype;
};

constexpr Pair kPairs[] = {{TensorDtype::kBool, torch::kBool}, {TensorDtype::kU8, torch::kByte},
                           {TensorDtype::kI8, torch::kChar},   {TensorDtype::kI16, torch::kShort},
                           {TensorDtype::kF16, torch::kHalf},  {TensorDtype::kBF16, torch::kBFloat16},
                           {TensorDtype::kI32, torch::kInt},   {TensorDtype::kF32, torch::kFloat},
                           {TensorDtype::kF64, torch::kDouble}, {TensorDtype::kI64, torch::kLong}};

}  // namespace

torch::Dtype ToTorchDtype(TensorDtype dtype) {
  for (const Pair& p : kPairs) {
    if (p.dtype == dtype) return p.torch_dtype;
  }
  throw FormatError(std::string("dtype ") + SafetensorsName(dtype) + " has no libtorch 1.13 equivalent");
}

bool FromTorchDtype(torch::Dtype torch_dtype, TensorDtype* dtype) {
  for (const Pair& p : kPairs) {
    if (p.torch_dtype == torch_dtype) {
      *dtype = p.dtype;
      return true;
    }
  }
  return false;
}

torch::Tensor TensorFromBytes(TensorDtype dtype, const std::vector<int64_t>& shape, std::string_view data) {
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(ToTorchDtype(dtype)));
  if (data.size() != t.nbytes()) {  // A caller's bug, never a file's: formats/ checked the sizes.
    throw Error("TensorFromBytes: " + std::to_string(data.size()) + " bytes for a tensor of " + std::to_string(t.nbytes()));
  }
  if (!data.empty()) std::memcpy(t.data_ptr(), data.data(), data.size());
  return t;
}

std::string_view BytesOf(const torch::Tensor& contiguous_cpu) {
  return std::string_view(static_cast<const char*>(contiguous_cpu.data_ptr()), contiguous_cpu.nbytes());
}

}  // namespace segtune
