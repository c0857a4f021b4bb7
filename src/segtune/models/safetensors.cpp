#include "segtune/models/safetensors.h"

#include <torch/torch.h>

#include <functional>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/models/tensor_from_bytes.h"

namespace segtune {
namespace {

TensorDtype StorableDtype(torch::Dtype dtype) {
  TensorDtype stored;
  if (!FromTorchDtype(dtype, &stored)) {
    throw FormatError(std::string("safetensors cannot store tensors of dtype ") + c10::toString(dtype));
  }
  return stored;
}

// Calls sink with the header and then each tensor's bytes, in file order. One tensor at a time is
// made contiguous on the CPU, so a model on a GPU is never copied whole.
void Serialize(const NamedTensors& tensors, const std::function<void(std::string_view)>& sink) {
  std::vector<SafetensorsTensor> described;
  for (const auto& [name, tensor] : tensors.items) {
    described.push_back({name, StorableDtype(tensor.scalar_type()), tensor.sizes().vec(), {}});
  }
  const SafetensorsLayout layout = PlanSafetensors(described, tensors.metadata);
  sink(layout.head);
  for (size_t i : layout.order) {
    const torch::Tensor t = tensors.items[i].second.detach().to(torch::kCPU).contiguous();
    sink(BytesOf(t));
  }
}

}  // namespace

NamedTensors ParseSafetensors(std::string_view bytes, const std::filesystem::path& path) {
  const SafetensorsContents contents = ParseSafetensorsContents(bytes, path);
  NamedTensors result;
  result.metadata = contents.metadata;
  for (const SafetensorsTensor& t : contents.tensors) {
    result.items.emplace_back(t.name, TensorFromBytes(t.dtype, t.shape, t.data));
  }
  return result;
}

NamedTensors ReadSafetensors(const std::filesystem::path& path) { return ParseSafetensors(ReadFile(path), path); }

std::string SerializeSafetensors(const NamedTensors& tensors) {
  std::string out;
  Serialize(tensors, [&out](std::string_view bytes) { out.append(bytes); });
  return out;
}

void SaveSafetensors(const NamedTensors& tensors, const std::filesystem::path& path) {
  AtomicFile file(path);
  Serialize(tensors, [&file](std::string_view bytes) { file.Write(bytes); });
  file.Commit();
}

std::string SafetensorsDtypeName(torch::Dtype dtype) {
  TensorDtype stored;
  return FromTorchDtype(dtype, &stored) ? SafetensorsName(stored) : "";
}

}  // namespace segtune
