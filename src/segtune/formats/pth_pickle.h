// The data.pkl of a state dict as torch.save writes it (docs/formats.md §7), and the storage classes
// torch names in it. The reader is formats/pth_zip.h; models/pth_writer.cpp writes the archive.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "segtune/formats/pickle.h"

namespace segtune {

// The torch storage class of a dtype ("FloatStorage", "LongStorage", ...); "" if torch has none.
std::string TorchStorageClass(TensorDtype dtype);
// The dtype of a storage class as a pickle names it ("torch.FloatStorage"); false if unsupported.
bool DtypeOfStorageClass(const std::string& global, TensorDtype* dtype);

// Pickles OrderedDict([(name, _rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
// OrderedDict())) ...]) where each storage is the persistent id ('storage', torch.<T>Storage, key,
// "cpu", numel): the layout torch.save uses for a state_dict. Every dtype must have a storage class.
std::string StateDictPickle(const std::vector<std::pair<std::string, PickleTensor>>& tensors);

}  // namespace segtune
