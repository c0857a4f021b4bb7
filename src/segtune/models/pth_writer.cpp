// SavePth (declared in weights.h): the torch side of writing a torch.save archive. The data.pkl is
// formats/pth_pickle.h's; the zip is libtorch's PyTorchStreamWriter, which aligns each record's data
// as torch.load expects.
#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/pth_pickle.h"
#include "segtune/models/tensor_from_bytes.h"
#include "segtune/models/weights.h"

namespace segtune {

void SavePth(const NamedTensors& named, const std::filesystem::path& path) {
  std::vector<torch::Tensor> tensors;
  std::vector<std::pair<std::string, PickleTensor>> records;  // Storage i is tensor i's own, key "i".
  std::set<std::string> names;
  for (const auto& [name, tensor] : named.items) {
    if (!names.insert(name).second) throw UsageError(path.string() + ": tensor name '" + name + "' appears twice");
    TensorDtype dtype;
    if (!FromTorchDtype(tensor.scalar_type(), &dtype) || TorchStorageClass(dtype).empty()) {
      throw UsageError(path.string() + ": tensor '" + name + "' has dtype " + c10::toString(tensor.scalar_type()) +
                       ", which a .pth writer here cannot store");
    }
    tensors.push_back(tensor.detach().to(torch::kCPU).contiguous());
    const torch::Tensor& t = tensors.back();
    records.push_back({name, {{std::to_string(records.size()), dtype, t.numel()}, 0, t.sizes().vec(), t.strides().vec(), false}});
  }
  AtomicFile file(path);
  try {
    caffe2::serialize::PyTorchStreamWriter zip([&file](const void* data, size_t size) {
      file.Write(std::string_view(static_cast<const char*>(data), size));
      return size;
    });
    const std::string pickle = StateDictPickle(records);
    zip.writeRecord("data.pkl", pickle.data(), pickle.size());
    zip.writeRecord("byteorder", "little", 6);
    for (size_t i = 0; i < tensors.size(); ++i) {
      zip.writeRecord("data/" + std::to_string(i), tensors[i].data_ptr(), tensors[i].nbytes());
    }
    zip.writeEndOfFile();
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    throw IoError(path.string() + ": writing the zip archive failed: " + message.substr(0, message.find('\n')));
  }
  file.Commit();
}

}  // namespace segtune
