#include "segtune/formats/tensor_dtype.h"

namespace segtune {
namespace {

struct DtypeInfo {
  TensorDtype dtype;
  const char* name;
  size_t size;
  bool loadable;
};

// Indexed by the enum's value.
constexpr DtypeInfo kDtypes[] = {
    {TensorDtype::kBool, "BOOL", 1, true},     {TensorDtype::kU8, "U8", 1, true},
    {TensorDtype::kI8, "I8", 1, true},         {TensorDtype::kF8E5M2, "F8_E5M2", 1, false},
    {TensorDtype::kF8E4M3, "F8_E4M3", 1, false}, {TensorDtype::kI16, "I16", 2, true},
    {TensorDtype::kU16, "U16", 2, false},      {TensorDtype::kF16, "F16", 2, true},
    {TensorDtype::kBF16, "BF16", 2, true},     {TensorDtype::kI32, "I32", 4, true},
    {TensorDtype::kU32, "U32", 4, false},      {TensorDtype::kF32, "F32", 4, true},
    {TensorDtype::kF64, "F64", 8, true},       {TensorDtype::kI64, "I64", 8, true},
    {TensorDtype::kU64, "U64", 8, false}};

const DtypeInfo& Info(TensorDtype dtype) { return kDtypes[static_cast<int>(dtype)]; }

}  // namespace

size_t ElementSize(TensorDtype dtype) { return Info(dtype).size; }
bool IsLoadable(TensorDtype dtype) { return Info(dtype).loadable; }
const char* SafetensorsName(TensorDtype dtype) { return Info(dtype).name; }

bool DtypeFromSafetensorsName(const std::string& name, TensorDtype* dtype) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) {
      *dtype = d.dtype;
      return true;
    }
  }
  return false;
}

}  // namespace segtune
