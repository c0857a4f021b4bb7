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

NamedTensors ReadSafetensors(const std::filesystem::path& path) {
  // One buffer for the file, and the tensors views of it: a per-tensor copy wrote every byte of a
  // model again into fresh memory (~0.04 s of a 44 MB DeepLabV3 bundle's load on a VM).
  const auto bytes = std::make_shared<const std::string>(ReadFile(path));
  const SafetensorsContents contents = ParseSafetensorsContents(*bytes, path);
  NamedTensors result;
  result.metadata = contents.metadata;
  for (const SafetensorsTensor& t : contents.tensors) {
    const torch::Dtype dtype = ToTorchDtype(t.dtype);
    const auto address = reinterpret_cast<uintptr_t>(t.data.data());
    if (t.data.empty() || address % c10::elementSize(dtype) != 0) {  // Unaligned (a foreign writer): copy.
      result.items.emplace_back(t.name, TensorFromBytes(t.dtype, t.shape, t.data));
      continue;
    }
    // The buffer is this function's own: writing through the view (a training step) is safe.
    torch::Tensor view = torch::from_blob(const_cast<char*>(t.data.data()), t.shape, [bytes](void*) {},
                                          torch::TensorOptions().dtype(dtype));
    result.items.emplace_back(t.name, std::move(view));
  }
  return result;
}

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
