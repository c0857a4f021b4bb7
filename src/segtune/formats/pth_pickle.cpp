#include "segtune/formats/pth_pickle.h"

#include "segtune/formats/pickle_writer.h"

namespace segtune {
namespace {

struct StorageClass {
  TensorDtype dtype;
  const char* name;
};

constexpr StorageClass kStorageClasses[] = {
    {TensorDtype::kF32, "FloatStorage"},   {TensorDtype::kF64, "DoubleStorage"}, {TensorDtype::kF16, "HalfStorage"},
    {TensorDtype::kBF16, "BFloat16Storage"}, {TensorDtype::kI64, "LongStorage"}, {TensorDtype::kI32, "IntStorage"},
    {TensorDtype::kI16, "ShortStorage"},   {TensorDtype::kI8, "CharStorage"},    {TensorDtype::kU8, "ByteStorage"},
    {TensorDtype::kBool, "BoolStorage"}};

void IntTuple(const std::vector<int64_t>& values, PickleWriter* p) {
  p->Mark();
  for (int64_t v : values) p->Int(v);
  p->Tuple();
}

}  // namespace

std::string TorchStorageClass(TensorDtype dtype) {
  for (const StorageClass& c : kStorageClasses) {
    if (c.dtype == dtype) return c.name;
  }
  return "";
}

bool DtypeOfStorageClass(const std::string& global, TensorDtype* dtype) {
  for (const StorageClass& c : kStorageClasses) {
    if (global == std::string("torch.") + c.name) {
      *dtype = c.dtype;
      return true;
    }
  }
  return false;
}

std::string StateDictPickle(const std::vector<std::pair<std::string, PickleTensor>>& tensors) {
  PickleWriter p;
  p.Global("collections", "OrderedDict");
  p.EmptyTuple();
  p.Reduce();
  p.Mark();
  for (const auto& [name, t] : tensors) {
    p.String(name);
    p.Global("torch._utils", "_rebuild_tensor_v2");
    p.Mark();
    p.Mark();
    p.String("storage");
    p.Global("torch", TorchStorageClass(t.storage.dtype));
    p.String(t.storage.key);
    p.String("cpu");
    p.Int(t.storage.numel);
    p.Tuple();
    p.BinPersId();
    p.Int(t.storage_offset);
    IntTuple(t.size, &p);
    IntTuple(t.stride, &p);
    p.Bool(t.requires_grad);
    p.Global("collections", "OrderedDict");
    p.EmptyTuple();
    p.Reduce();
    p.Tuple();
    p.Reduce();
  }
  p.SetItems();
  p.Stop();
  return p.bytes();
}

}  // namespace segtune
