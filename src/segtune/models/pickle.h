// A small Python unpickler for the subset of the pickle protocol (0-3 opcodes used by protocol 2
// and torch.save) that torch.save writes into a zip archive's data.pkl. It builds a tree of plain
// values; tensors are made by the caller through a persistent-id callback (BINPERSID) and the
// torch._utils._rebuild_* globals. Unknown classes become opaque objects rather than errors, so
// a training checkpoint with an optimizer or argparse.Namespace beside the model still loads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace segtune {

struct PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kTensor, kObject };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                  // kString, kBytes; kGlobal/kObject: "module.name".
  std::vector<PickleValuePtr> items;  // kTuple, kList; kObject: its constructor arguments.
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries;  // kDict, in insertion order.
  torch::Tensor tensor;              // kTensor.

  static PickleValuePtr Make(Kind kind);
  // "None", "int", "str", "dict", "tuple" ...: for error messages.
  std::string TypeName() const;
  // For kDict with string keys: the value under key, or nullptr.
  PickleValuePtr Get(const std::string& key) const;
};

// Called for BINPERSID with the persistent id (torch.save: a tuple ('storage', <kGlobal storage
// class>, key, location, numel)); returns the object it stands for (torch: a 1-D tensor holding the
// whole storage). Throws FormatError for ids it does not understand.
using PersistentLoader = std::function<PickleValuePtr(const PickleValue& pid)>;

// Unpickles `data`. `source` names the file and record for error messages
// ("resnet50.pth: data.pkl"). Throws FormatError naming the byte offset and the opcode on an
// unsupported opcode, a truncated stream, a stack underflow or a malformed tensor.
PickleValuePtr Unpickle(std::string_view data, const PersistentLoader& load_persistent,
                        const std::string& source);

// Writes pickle protocol 2 opcodes. Enough for torch.save-style data.pkl files.
class PickleWriter {
 public:
  PickleWriter();  // Writes PROTO 2.
  void Global(const std::string& module, const std::string& name);
  void Int(int64_t value);
  void Bool(bool value);
  void String(const std::string& value);
  void Mark();
  void Tuple();  // Pops to the mark.
  void EmptyTuple();
  void EmptyDict();
  void SetItems();  // Pops key/value pairs to the mark into the dict below the mark.
  void Reduce();
  void BinPersId();
  void Stop();
  const std::string& bytes() const { return out_; }

 private:
  void Op(char code);
  std::string out_;
};

}  // namespace segtune
