#include "segtune/models/pth_reader.h"

#include <torch/torch.h>

#include <map>

#include "segtune/core/atomic_file.h"
#include "segtune/models/tensor_from_bytes.h"

namespace segtune {
namespace {

// A tensor record as a tensor: its view of the storage copied out contiguous, so the storage can be
// freed (formats/pickle.cpp checked that the view lies inside it).
torch::Tensor ViewOf(const torch::Tensor& storage, const PickleTensor& t) {
  for (int64_t s : t.size) {
    if (s == 0) return torch::empty(t.size, storage.options());
  }
  return storage.as_strided(t.size, t.stride, t.storage_offset).clone(at::MemoryFormat::Contiguous);
}

}  // namespace

NamedTensors ReadPth(const std::filesystem::path& path, bool shapes_only) {
  const std::string bytes = ReadFile(path);
  const PthStateDict state = ReadPthStateDict(bytes, path, shapes_only);
  NamedTensors result;
  result.metadata = state.metadata;
  std::map<std::string, torch::Tensor> storages;  // By key, each made once.
  for (const auto& [name, record] : state.tensors) {
    const torch::Dtype dtype = ToTorchDtype(record.storage.dtype);
    if (shapes_only) {
      result.items.emplace_back(name, torch::empty(record.size, torch::TensorOptions().dtype(dtype).device(torch::kMeta)));
      continue;
    }
    auto it = storages.find(record.storage.key);
    if (it == storages.end()) {
      const PthStorageBytes& s = state.storages.at(record.storage.key);
      const size_t used = size_t(s.numel) * ElementSize(s.dtype);  // The record may hold more.
      it = storages.emplace(record.storage.key, TensorFromBytes(s.dtype, {s.numel}, s.bytes.substr(0, used))).first;
    }
    result.items.emplace_back(name, ViewOf(it->second, record));
  }
  return result;
}

}  // namespace segtune
