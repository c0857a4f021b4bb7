#include "segtune/formats/pickle.h"

#include <cstring>
#include <unordered_map>

#include "segtune/core/error.h"
#include "segtune/core/printable.h"

namespace segtune {

PickleValuePtr PickleValue::Make(Kind kind) {
  auto value = std::make_shared<PickleValue>();
  value->kind = kind;
  return value;
}

std::string PickleValue::TypeName() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "class " + text;
    case Kind::kStorage: return "storage";
    case Kind::kTensor: return "tensor";
    case Kind::kObject: return "object " + text;
  }
  return "?";
}

PickleValuePtr PickleValue::Get(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::kString && k->text == key) return v;
  }
  return nullptr;
}

namespace {

using Kind = PickleValue::Kind;

// Owns every value one Unpickle call creates. A pickle can reference a container from inside itself
// (a list appended to itself through the memo), and shared_ptr alone would leak such a cycle; the
// arena cuts every container's links when the last user of the result lets go.
struct Arena {
  std::vector<PickleValuePtr> values;
  ~Arena() {
    for (auto& v : values) {
      v->items.clear();
      v->entries.clear();
      v->state.reset();
    }
  }
};

class Unpickler {
 public:
  Unpickler(std::string_view data, const PersistentLoader& loader, const std::string& source,
            const UnpickleOptions& options)
      : data_(data), loader_(loader), source_(source), options_(options) {}

  PickleValuePtr Run() {
    while (true) {
      if (pos_ >= data_.size()) Fail("stream ends before STOP (truncated data.pkl)");
      op_pos_ = pos_;
      op_ = static_cast<uint8_t>(data_[pos_++]);
      if (op_ == '.') break;
      Step();
    }
    if (stack_.size() != 1) Fail("STOP with " + std::to_string(stack_.size()) + " values on the stack, expected 1");
    return PickleValuePtr(arena_, stack_.back().get());  // Shares the arena's lifetime.
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    char where[64];
    std::snprintf(where, sizeof where, "byte %zu (opcode 0x%02x)", op_pos_, unsigned(op_));
    throw FormatError(source_, where, what);
  }

  std::string_view Take(size_t n) {
    if (n > data_.size() - pos_) Fail("needs " + std::to_string(n) + " more bytes, stream is truncated");
    std::string_view bytes = data_.substr(pos_, n);
    pos_ += n;
    return bytes;
  }
  uint64_t UnsignedLE(size_t n) {
    std::string_view b = Take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(uint8_t(b[i])) << (8 * i);
    return v;
  }
  std::string Line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) Fail("GLOBAL name without a newline (truncated)");
    std::string line(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return line;
  }

  void Push(PickleValuePtr v) { stack_.push_back(std::move(v)); }
  PickleValuePtr Pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) Fail("stack underflow");
    PickleValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PickleValuePtr& Top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) Fail("stack underflow");
    return stack_.back();
  }
  // Pops everything above the last MARK (and the mark itself).
  std::vector<PickleValuePtr> PopToMark() {
    if (marks_.empty()) Fail("no MARK on the stack");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PickleValuePtr> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }
  PickleValuePtr MakeTuple(std::vector<PickleValuePtr> items) {
    auto t = New(Kind::kTuple);
    t->items = std::move(items);
    return t;
  }
  PickleValuePtr MakeString(Kind kind, std::string_view bytes) {
    auto s = New(kind);
    s->text = std::string(bytes);
    return s;
  }
  PickleValuePtr MakeBytes(std::string_view bytes) {
    auto b = New(Kind::kBytes);
    if (bytes.size() <= options_.max_kept_bytes) b->text = std::string(bytes);
    b->integer = static_cast<int64_t>(bytes.size());
    return b;
  }
  PickleValuePtr MakeInt(int64_t v) {
    auto i = New(Kind::kInt);
    i->integer = v;
    return i;
  }

  void Memoize(uint64_t index) {
    if (stack_.empty()) Fail("memo put on an empty stack");
    memo_[index] = stack_.back();
  }
  void Recall(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) Fail("memo index " + std::to_string(index) + " was never stored");
    Push(it->second);
  }

  void AddItems(PickleValue& dict, const std::vector<PickleValuePtr>& kv) {
    if (dict.kind != Kind::kDict) {
      if (dict.kind == Kind::kObject) return;  // A dict subclass we do not model: drop its items.
      Fail("SETITEMS on a " + dict.TypeName() + ", expected a dict");
    }
    if (kv.size() % 2) Fail("SETITEMS with an odd number of keys and values");
    for (size_t i = 0; i < kv.size(); i += 2) dict.entries.emplace_back(kv[i], kv[i + 1]);
  }
  void AppendItems(PickleValue& list, const std::vector<PickleValuePtr>& values) {
    if (list.kind == Kind::kObject) return;
    if (list.kind != Kind::kList) Fail("APPENDS on a " + list.TypeName() + ", expected a list");
    list.items.insert(list.items.end(), values.begin(), values.end());
  }

  // The bytes a str of code points below 256 stands for (the str is UTF-8 here).
  std::string Latin1(const std::string& utf8) {
    std::string bytes;
    bytes.reserve(utf8.size());
    char32_t c = 0;
    for (size_t i = 0, n = 0; i < utf8.size(); i += n) {
      n = Utf8SequenceAt(utf8, i, &c);
      if (n == 0 || c > 0xFF) Fail("_codecs.encode(..., 'latin1') of a str with characters above U+00FF");
      bytes += static_cast<char>(c);
    }
    return bytes;
  }

  void Step();
  PickleValuePtr Reduce(const PickleValuePtr& callable, const PickleValuePtr& args);
  // A new value owned by the arena.
  PickleValuePtr New(Kind kind) {
    if (arena_->values.size() >= options_.max_values) {
      Fail("more than " + std::to_string(options_.max_values) + " values (a bound for this file)");
    }
    arena_->values.push_back(PickleValue::Make(kind));
    return arena_->values.back();
  }
  PickleValuePtr RebuildTensor(const std::vector<PickleValuePtr>& args, bool has_stride);
  std::vector<int64_t> IntTuple(const PickleValuePtr& v, const char* what);

  std::string_view data_;
  const PersistentLoader& loader_;
  const std::string& source_;
  const UnpickleOptions options_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  uint8_t op_ = 0;
  std::vector<PickleValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValuePtr> memo_;
  std::shared_ptr<Arena> arena_ = std::make_shared<Arena>();
};

void Unpickler::Step() {
  switch (op_) {
    case 0x80: Take(1); break;  // PROTO n
    case 0x95: Take(8); break;  // FRAME: frames only matter for streaming readers.
    case '(': marks_.push_back(stack_.size()); break;
    case 'N': Push(New(Kind::kNone)); break;
    case 0x88:
    case 0x89: {
      auto b = New(Kind::kBool);
      b->boolean = op_ == 0x88;
      Push(b);
      break;
    }
    case 'K': Push(MakeInt(int64_t(UnsignedLE(1)))); break;
    case 'M': Push(MakeInt(int64_t(UnsignedLE(2)))); break;
    case 'J': Push(MakeInt(int64_t(int32_t(uint32_t(UnsignedLE(4)))))); break;
    case 0x8a:    // LONG1: n bytes, little-endian two's complement.
    case 0x8b: {  // LONG4
      const uint64_t n = UnsignedLE(op_ == 0x8a ? 1 : 4);
      if (n > 8) Fail("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
      uint64_t v = n ? UnsignedLE(n) : 0;
      if (n && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // Sign-extend.
      Push(MakeInt(int64_t(v)));
      break;
    }
    case 'G': {  // BINFLOAT: 8 bytes big-endian IEEE double.
      std::string_view b = Take(8);
      uint64_t bits = 0;
      for (char c : b) bits = (bits << 8) | uint8_t(c);
      auto f = New(Kind::kFloat);
      std::memcpy(&f->real, &bits, 8);
      Push(f);
      break;
    }
    case 'X': Push(MakeString(Kind::kString, Take(UnsignedLE(4)))); break;
    case 0x8c: Push(MakeString(Kind::kString, Take(UnsignedLE(1)))); break;
    case 0x8d: Push(MakeString(Kind::kString, Take(UnsignedLE(8)))); break;
    case 'T': Push(MakeString(Kind::kString, Take(UnsignedLE(4)))); break;  // BINSTRING (py2 str).
    case 'U': Push(MakeString(Kind::kString, Take(UnsignedLE(1)))); break;
    case 'B': Push(MakeBytes(Take(UnsignedLE(4)))); break;
    case 'C': Push(MakeBytes(Take(UnsignedLE(1)))); break;
    case 0x8e:                                        // BINBYTES8
    case 0x96: Push(MakeBytes(Take(UnsignedLE(8)))); break;  // BYTEARRAY8 (protocol 5): bytes here.
    case 0x8f: Push(New(Kind::kList)); break;  // EMPTY_SET: a list here (order as written).
    case 0x90: {                               // ADDITEMS
      std::vector<PickleValuePtr> values = PopToMark();
      AppendItems(*Top(), values);
      break;
    }
    case 0x91: {  // FROZENSET
      auto set = New(Kind::kList);
      set->items = PopToMark();
      Push(set);
      break;
    }
    case '}': Push(New(Kind::kDict)); break;
    case ']': Push(New(Kind::kList)); break;
    case ')': Push(MakeTuple({})); break;
    case 'd': {
      auto dict = New(Kind::kDict);
      AddItems(*dict, PopToMark());
      Push(dict);
      break;
    }
    case 'l': {
      auto list = New(Kind::kList);
      list->items = PopToMark();
      Push(list);
      break;
    }
    case 't': Push(MakeTuple(PopToMark())); break;
    case 0x85:
    case 0x86:
    case 0x87: {
      std::vector<PickleValuePtr> items(op_ - 0x84);
      for (size_t i = items.size(); i-- > 0;) items[i] = Pop();
      Push(MakeTuple(std::move(items)));
      break;
    }
    case 's': {
      PickleValuePtr value = Pop();
      PickleValuePtr key = Pop();
      AddItems(*Top(), {key, value});
      break;
    }
    case 'u': {
      std::vector<PickleValuePtr> kv = PopToMark();
      AddItems(*Top(), kv);
      break;
    }
    case 'a': {
      PickleValuePtr value = Pop();
      AppendItems(*Top(), {value});
      break;
    }
    case 'e': {
      std::vector<PickleValuePtr> values = PopToMark();
      AppendItems(*Top(), values);
      break;
    }
    case 'q': Memoize(UnsignedLE(1)); break;
    case 'r': Memoize(UnsignedLE(4)); break;
    case 0x94: Memoize(memo_.size()); break;  // MEMOIZE
    case 'h': Recall(UnsignedLE(1)); break;
    case 'j': Recall(UnsignedLE(4)); break;
    case '0': Pop(); break;
    case '1': PopToMark(); break;
    case '2': Push(Top()); break;
    case 'c': {
      const std::string module = Line();
      const std::string name = Line();
      Push(MakeString(Kind::kGlobal, module + "." + name));
      break;
    }
    case 0x93: {  // STACK_GLOBAL
      PickleValuePtr name = Pop();
      PickleValuePtr module = Pop();
      if (name->kind != Kind::kString || module->kind != Kind::kString) Fail("STACK_GLOBAL needs two strings");
      Push(MakeString(Kind::kGlobal, module->text + "." + name->text));
      break;
    }
    case 'R': {
      PickleValuePtr args = Pop();
      PickleValuePtr callable = Pop();
      Push(Reduce(callable, args));
      break;
    }
    case 0x81: {  // NEWOBJ cls args: an instance of a class we do not model.
      PickleValuePtr args = Pop();
      PickleValuePtr cls = Pop();
      auto object = MakeString(Kind::kObject, cls->text);
      if (args->kind == Kind::kTuple) object->items = args->items;
      Push(object);
      break;
    }
    case 'b': {  // BUILD: an object's state (numpy's array contents); dicts' (OrderedDict._metadata) is dropped.
      PickleValuePtr state = Pop();
      if (Top()->kind == Kind::kObject) Top()->state = std::move(state);
      break;
    }
    case 'Q': {
      PickleValuePtr pid = Pop();
      Push(loader_(*pid));
      break;
    }
    default: Fail("unsupported pickle opcode (torch.save files use protocol 2)");
  }
}

std::vector<int64_t> Unpickler::IntTuple(const PickleValuePtr& v, const char* what) {
  if (v->kind != Kind::kTuple && v->kind != Kind::kList) Fail(std::string(what) + " is a " + v->TypeName() + ", expected a tuple");
  std::vector<int64_t> ints;
  for (const auto& item : v->items) {
    if (item->kind != Kind::kInt) Fail(std::string(what) + " holds a " + item->TypeName() + ", expected ints");
    ints.push_back(item->integer);
  }
  return ints;
}

// The tensor record of torch._utils._rebuild_tensor_v2's arguments: a view (offset, size, stride)
// of a storage, checked to lie inside it so the torch side can copy it out without looking again.
PickleValuePtr Unpickler::RebuildTensor(const std::vector<PickleValuePtr>& args, bool has_stride) {
  if (args.size() < (has_stride ? 4u : 3u)) Fail("tensor rebuild with " + std::to_string(args.size()) + " arguments");
  if (args[0]->kind != Kind::kStorage) Fail("tensor rebuild from a " + args[0]->TypeName() + ", expected a storage");
  if (args[1]->kind != Kind::kInt) Fail("tensor storage offset is a " + args[1]->TypeName());
  const PickleStorage& storage = args[0]->storage;
  const int64_t offset = args[1]->integer;
  const std::vector<int64_t> size = IntTuple(args[2], "tensor size");
  std::vector<int64_t> stride = has_stride ? IntTuple(args[3], "tensor stride") : std::vector<int64_t>{};
  if (!has_stride) {  // Contiguous strides.
    stride.assign(size.size(), 1);
    for (size_t i = size.size(); i-- > 1;) stride[i - 1] = stride[i] * size[i];
  }
  if (size.size() != stride.size()) Fail("tensor size and stride differ in length");
  const int64_t numel = storage.numel;
  if (offset < 0 || offset > numel) Fail("tensor storage offset " + std::to_string(offset) + " outside a storage of " + std::to_string(numel));
  // The view must stay inside the storage: offset + sum((size-1)*stride) < numel, with no overflow.
  bool empty = false;
  for (int64_t s : size) {
    if (s < 0) Fail("negative tensor size");
    empty |= s == 0;
  }
  int64_t last = offset;
  for (size_t i = 0; i < size.size() && !empty; ++i) {
    if (stride[i] < 0 || stride[i] > numel || size[i] > numel) Fail("tensor view does not fit its storage");
    last += (size[i] - 1) * stride[i];
    if (last >= numel) Fail("tensor view reaches element " + std::to_string(last) + " of a storage of " + std::to_string(numel));
  }
  // A 0-dim tensor has no size to walk: its one element is at the offset, which must be inside too.
  if (!empty && last >= numel) {
    Fail("tensor view reaches element " + std::to_string(last) + " of a storage of " + std::to_string(numel));
  }
  auto tensor = New(Kind::kTensor);
  tensor->tensor = {storage, offset, size, stride, args.size() > 4 && args[4]->kind == Kind::kBool && args[4]->boolean};
  return tensor;
}

PickleValuePtr Unpickler::Reduce(const PickleValuePtr& callable, const PickleValuePtr& args) {
  const std::vector<PickleValuePtr> no_args;
  const std::vector<PickleValuePtr>& a = args->kind == Kind::kTuple ? args->items : no_args;
  if (callable->kind == Kind::kGlobal) {
    const std::string& name = callable->text;
    if (name == "torch._utils._rebuild_tensor_v2") return RebuildTensor(a, true);
    if (name == "torch._utils._rebuild_tensor") return RebuildTensor(a, true);
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Kind::kTensor) Fail(name + " without a tensor");
      return a[0];
    }
    if (name == "_codecs.encode" && a.size() == 2 && a[0]->kind == Kind::kString && a[1]->kind == Kind::kString &&
        (a[1]->text == "latin1" || a[1]->text == "latin-1")) {
      return MakeBytes(Latin1(a[0]->text));  // Protocol 2's bytes: _codecs.encode(str of U+0000..U+00FF, 'latin1').
    }
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict") {
      auto dict = New(Kind::kDict);
      if (!a.empty() && a[0]->kind == Kind::kList) {  // OrderedDict([(k, v), ...])
        for (const auto& pair : a[0]->items) {
          if (pair->kind != Kind::kTuple || pair->items.size() != 2) Fail("OrderedDict item is not a pair");
          dict->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      }
      return dict;
    }
  }
  auto object = New(Kind::kObject);
  object->text = callable->kind == Kind::kGlobal ? callable->text : callable->TypeName();
  object->items = a;
  return object;
}

}  // namespace

PickleValuePtr Unpickle(std::string_view data, const PersistentLoader& load_persistent, const std::string& source) {
  return Unpickle(data, load_persistent, source, UnpickleOptions{});
}

PickleValuePtr Unpickle(std::string_view data, const PersistentLoader& load_persistent, const std::string& source,
                        const UnpickleOptions& options) {
  return Unpickler(data, load_persistent, source, options).Run();
}

}  // namespace segtune
