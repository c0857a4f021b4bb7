#include "segtune/formats/pickle_writer.h"

#include <cstdint>

namespace segtune {

PickleWriter::PickleWriter() {
  out_ += '\x80';
  out_ += '\x02';
}

void PickleWriter::Op(char code) { out_ += code; }

void PickleWriter::Global(const std::string& module, const std::string& name) {
  out_ += 'c' + module + '\n' + name + '\n';
}

void PickleWriter::Int(int64_t value) {
  if (value >= 0 && value < 256) {
    out_ += 'K';
    out_ += char(value);
  } else if (value >= INT32_MIN && value <= INT32_MAX) {
    out_ += 'J';
    const uint32_t v = uint32_t(int32_t(value));
    for (int i = 0; i < 4; ++i) out_ += char((v >> (8 * i)) & 0xff);
  } else {  // LONG1 with 8 bytes two's complement.
    out_ += '\x8a';
    out_ += char(8);
    const uint64_t v = uint64_t(value);
    for (int i = 0; i < 8; ++i) out_ += char((v >> (8 * i)) & 0xff);
  }
}

void PickleWriter::Bool(bool value) { Op(value ? '\x88' : '\x89'); }

void PickleWriter::String(const std::string& value) {
  out_ += 'X';
  const uint32_t n = uint32_t(value.size());
  for (int i = 0; i < 4; ++i) out_ += char((n >> (8 * i)) & 0xff);
  out_ += value;
}

void PickleWriter::Mark() { Op('('); }
void PickleWriter::Tuple() { Op('t'); }
void PickleWriter::EmptyTuple() { Op(')'); }
void PickleWriter::EmptyDict() { Op('}'); }
void PickleWriter::SetItems() { Op('u'); }
void PickleWriter::Reduce() { Op('R'); }
void PickleWriter::BinPersId() { Op('Q'); }
void PickleWriter::Stop() { Op('.'); }

}  // namespace segtune
