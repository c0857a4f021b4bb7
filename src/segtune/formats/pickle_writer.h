// Writes pickle protocol 2 opcodes: enough for torch.save-style data.pkl files (docs/formats.md §7).
// The reader is formats/pickle.h.
#pragma once

#include <cstdint>
#include <string>

namespace segtune {

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
