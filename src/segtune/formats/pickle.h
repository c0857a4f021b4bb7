// A small Python unpickler for the subset of the pickle protocol (0-3 opcodes used by protocol 2
// and torch.save) that torch.save writes into a zip archive's data.pkl (docs/formats.md §7), plus
// what plain Python data pickled at protocols 4 and 5 uses (sets, bytearrays). It
// builds a tree of plain values, without LibTorch: a storage is what the caller's persistent-id
// callback (BINPERSID) returns, and a tensor is a record of the view the torch._utils._rebuild_*
// globals describe (storage, offset, size, stride), checked to lie inside its storage; models/
// turns it into a torch tensor. Unknown classes become opaque objects rather than errors, so a
// training checkpoint with an optimizer or argparse.Namespace beside the model still loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "segtune/formats/tensor_dtype.h"

namespace segtune {

struct PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

// A storage a persistent id stands for: torch.save's ('storage', torch.<T>Storage, key, location,
// numel); its bytes are the archive's record data/<key>.
struct PickleStorage {
  std::string key;
  TensorDtype dtype = TensorDtype::kF32;
  int64_t numel = 0;
};

// A tensor as torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
// requires_grad, ...) describes it: a view of `storage` whose every element lies inside it
// (offset + sum((size - 1) * stride) < storage.numel when no size is 0; Unpickle checks).
struct PickleTensor {
  PickleStorage storage;
  int64_t storage_offset = 0;
  std::vector<int64_t> size, stride;
  bool requires_grad = false;
};

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor, kObject };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                  // kString, kBytes; kGlobal/kObject: "module.name".
  // kBytes: their length. Equal to text.size() unless UnpickleOptions::max_kept_bytes dropped them.
  // (kInt, kBool: the value.)
  std::vector<PickleValuePtr> items;  // kTuple, kList; kObject: its constructor arguments.
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries;  // kDict, in insertion order.
  PickleValuePtr state;              // kObject: what BUILD gave it (numpy: (version, shape, dtype, ...)).
  PickleStorage storage;             // kStorage.
  PickleTensor tensor;               // kTensor.

  static PickleValuePtr Make(Kind kind);
  // "None", "int", "str", "dict", "tuple" ...: for error messages.
  std::string TypeName() const;
  // For kDict with string keys: the value under key, or nullptr.
  PickleValuePtr Get(const std::string& key) const;
};

// Called for BINPERSID with the persistent id (torch.save: a tuple ('storage', <kGlobal storage
// class>, key, location, numel)); returns the object it stands for (torch.save: a kStorage value,
// which the _rebuild_tensor globals take). Throws FormatError for ids it does not understand.
using PersistentLoader = std::function<PickleValuePtr(const PickleValue& pid)>;

// Unpickles `data`. `source` names the file and record for error messages
// ("resnet50.pth: data.pkl"). Throws FormatError naming the byte offset and the opcode on an
// unsupported opcode, a truncated stream, a stack underflow or a malformed tensor (a rebuild from
// something that is not a storage, a size and stride that differ in length, a negative size, a view
// reaching outside its storage).
PickleValuePtr Unpickle(std::string_view data, const PersistentLoader& load_persistent,
                        const std::string& source);

struct UnpickleOptions {
  // bytes (and bytearrays) longer than this are not copied: kBytes with an empty text and `integer`
  // = their length. For files whose large arrays the caller does not need (a 800 MB numpy array
  // beside the list of names it reads).
  size_t max_kept_bytes = SIZE_MAX;
  // More values than this (each ~200 bytes of memory) is an error: a bound for files that are not
  // torch.save's (whose size security.md already bounds).
  size_t max_values = SIZE_MAX;
};
PickleValuePtr Unpickle(std::string_view data, const PersistentLoader& load_persistent, const std::string& source,
                        const UnpickleOptions& options);

}  // namespace segtune
