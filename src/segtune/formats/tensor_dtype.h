// The element types of tensors stored in weight files (safetensors, torch.save storages), without
// LibTorch: the formats layer describes tensors as raw bytes plus one of these, and models/ maps
// them to torch dtypes (models/tensor_from_bytes.h).
#pragma once

#include <cstddef>
#include <string>

namespace segtune {

// In the reference safetensors Dtype enum's order (docs/formats.md §6): its writer sorts by this
// order, descending. Types LibTorch 1.13 lacks (F8_*, U16, U32, U64) are known but not loadable.
enum class TensorDtype { kBool, kU8, kI8, kF8E5M2, kF8E4M3, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kF64, kI64, kU64 };

// Bytes per element.
size_t ElementSize(TensorDtype dtype);
// True if segtune can load tensors of this type (LibTorch 1.13 has an equivalent).
bool IsLoadable(TensorDtype dtype);
// The safetensors name: "F32", "I64", "F8_E5M2", ...
const char* SafetensorsName(TensorDtype dtype);
// The type with safetensors name `name`; false if there is none.
bool DtypeFromSafetensorsName(const std::string& name, TensorDtype* dtype);

}  // namespace segtune
