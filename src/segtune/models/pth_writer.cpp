#include "segtune/models/pth_writer.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/pickle_writer.h"
#include "segtune/models/weights.h"

namespace segtune {

std::string TorchStorageClass(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat: return "FloatStorage";
    case torch::kDouble: return "DoubleStorage";
    case torch::kHalf: return "HalfStorage";
    case torch::kBFloat16: return "BFloat16Storage";
    case torch::kLong: return "LongStorage";
    case torch::kInt: return "IntStorage";
    case torch::kShort: return "ShortStorage";
    case torch::kChar: return "CharStorage";
    case torch::kByte: return "ByteStorage";
    case torch::kBool: return "BoolStorage";
    default: return "";
  }
}

namespace {

// Pickles OrderedDict([(name, _rebuild_tensor_v2(storage_i, 0, size, stride, False, OrderedDict()))
// ...]) where storage_i is persistent id ('storage', torch.<T>Storage, "i", "cpu", numel): the
// layout torch.save uses for a state_dict.
std::string StateDictPickle(const std::vector<torch::Tensor>& tensors, const NamedTensors& named) {
  PickleWriter p;
  p.Global("collections", "OrderedDict");
  p.EmptyTuple();
  p.Reduce();
  p.Mark();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = tensors[i];
    p.String(named.items[i].first);
    p.Global("torch._utils", "_rebuild_tensor_v2");
    p.Mark();
    p.Mark();
    p.String("storage");
    p.Global("torch", TorchStorageClass(t.scalar_type()));
    p.String(std::to_string(i));
    p.String("cpu");
    p.Int(t.numel());
    p.Tuple();
    p.BinPersId();
    p.Int(0);
    p.Mark();
    for (int64_t s : t.sizes()) p.Int(s);
    p.Tuple();
    p.Mark();
    for (int64_t s : t.strides()) p.Int(s);
    p.Tuple();
    p.Bool(false);
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

}  // namespace

void SavePth(const NamedTensors& named, const std::filesystem::path& path) {
  std::vector<torch::Tensor> tensors;
  std::set<std::string> names;
  for (const auto& [name, tensor] : named.items) {
    if (!names.insert(name).second) throw UsageError(path.string() + ": tensor name '" + name + "' appears twice");
    if (TorchStorageClass(tensor.scalar_type()).empty()) {
      throw UsageError(path.string() + ": tensor '" + name + "' has dtype " + c10::toString(tensor.scalar_type()) +
                       ", which a .pth writer here cannot store");
    }
    tensors.push_back(tensor.detach().to(torch::kCPU).contiguous());
  }
  AtomicFile file(path);
  try {
    caffe2::serialize::PyTorchStreamWriter zip([&file](const void* data, size_t size) {
      file.Write(std::string_view(static_cast<const char*>(data), size));
      return size;
    });
    const std::string pickle = StateDictPickle(tensors, named);
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
