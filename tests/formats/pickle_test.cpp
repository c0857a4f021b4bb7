// The data.pkl unpickler (formats/pickle.h) and torch.save's state dict pickle (formats/pth_pickle.h),
// without LibTorch: tensors come out as records of their view of a storage, checked to lie inside it.
#include <gtest/gtest.h>

#include "segtune/core/error.h"
#include "segtune/formats/pickle.h"
#include "segtune/formats/pth_pickle.h"

namespace segtune {
namespace {

// A loader that resolves every persistent id to a float storage of `numel` elements.
PersistentLoader Storage(int64_t numel) {
  return [numel](const PickleValue& pid) {
    auto value = PickleValue::Make(PickleValue::Kind::kStorage);
    value->storage = {pid.items.at(2)->text, TensorDtype::kF32, numel};
    return value;
  };
}

// OrderedDict(t = _rebuild_tensor_v2(float storage "0" of 16, offset, size, stride, grad)), as
// torch.save writes it.
std::string OneTensor(int64_t offset, const std::vector<int64_t>& size, const std::vector<int64_t>& stride, bool grad) {
  return StateDictPickle({{"t", {{"0", TensorDtype::kF32, 16}, offset, size, stride, grad}}});
}

TEST(Unpickler, TensorIsARecordOfItsViewOfTheStorage) {
  const PickleValuePtr root = Unpickle(OneTensor(3, {2, 2}, {1, 4}, true), Storage(16), "x.pth: data.pkl");
  ASSERT_EQ(root->kind, PickleValue::Kind::kDict);
  const PickleValuePtr t = root->Get("t");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->kind, PickleValue::Kind::kTensor);
  EXPECT_EQ(t->tensor.storage.key, "0");
  EXPECT_EQ(t->tensor.storage.dtype, TensorDtype::kF32);
  EXPECT_EQ(t->tensor.storage.numel, 16);
  EXPECT_EQ(t->tensor.storage_offset, 3);
  EXPECT_EQ(t->tensor.size, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t->tensor.stride, (std::vector<int64_t>{1, 4}));
  EXPECT_TRUE(t->tensor.requires_grad);
}

TEST(Unpickler, ViewsOutsideTheirStorageAreErrorsNamingTheOffset) {
  const struct {
    int64_t offset;
    std::vector<int64_t> size, stride;
    const char* message;
  } cases[] = {
      {14, {4}, {1}, "tensor view reaches element 17 of a storage of 16"},
      {16, {}, {}, "tensor view reaches element 16 of a storage of 16"},  // 0-dim at the end (fuzz crash-bdef1e0d).
      {17, {1}, {1}, "tensor storage offset 17 outside a storage of 16"},
      {0, {2}, {1, 1}, "tensor size and stride differ in length"},
      {0, {2, 2}, {-1, 1}, "does not fit its storage"},
  };
  for (const auto& c : cases) {
    try {
      Unpickle(OneTensor(c.offset, c.size, c.stride, false), Storage(16), "x.pth: data.pkl");
      ADD_FAILURE() << c.message << ": accepted";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("x.pth: data.pkl: byte ", 0), 0u) << e.what();
    }
  }
  // An empty view needs no element of the storage.
  EXPECT_NO_THROW(Unpickle(OneTensor(16, {0, 3}, {3, 1}, false), Storage(16), "x.pth: data.pkl"));
}

TEST(Unpickler, UnsupportedOpcodeNamesTheByteOffset) {
  const std::string pickle = std::string("\x80\x02", 2) + "}I12\n.";  // INT (text) is not supported.
  try {
    Unpickle(pickle, [](const PickleValue&) -> PickleValuePtr { return nullptr; }, "x.pth: data.pkl");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("byte 3 (opcode 0x49)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("x.pth: data.pkl"), std::string::npos) << e.what();
  }
}

// Found by fuzz_pickle (tests/fuzz/corpus/pickle/leak-*): a list appended to itself through the memo
// (PROTO 2, EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP) is a shared_ptr cycle that leaked. The values
// of one Unpickle call are freed together once the result is released.
TEST(Unpickler, SelfReferencingValuesAreFreedWithTheResult) {
  const std::string pickle("\x80\x02]q\x00h\x00" "a.", 9);
  PickleValuePtr root =
      Unpickle(pickle, [](const PickleValue&) -> PickleValuePtr { return nullptr; }, "x.pth: data.pkl");
  ASSERT_EQ(root->kind, PickleValue::Kind::kList);
  ASSERT_EQ(root->items.size(), 1u);
  EXPECT_EQ(root->items[0].get(), root.get());  // It holds itself.
  std::weak_ptr<PickleValue> list = root->items[0];
  root.reset();
  EXPECT_TRUE(list.expired());
}

}  // namespace
}  // namespace segtune

namespace segtune {
namespace {

using namespace std::string_literals;

PickleValuePtr Plain(const std::string& bytes, const UnpickleOptions& options = {}) {
  return Unpickle(
      bytes, [](const PickleValue&) -> PickleValuePtr { throw FormatError("no persistent ids here"); }, "x.pkl",
      options);
}

TEST(Unpickler, ObjectsKeepTheStateBuildGivesThem) {
  // __main__.K.__new__(K) then BUILD {'a': 1}: how numpy arrays carry their contents.
  const PickleValuePtr v = Plain("\x80\x02" "c__main__\nK\n)\x81}(X\x01\x00\x00\x00" "aK\x01" "ub."s);
  ASSERT_EQ(v->kind, PickleValue::Kind::kObject);
  EXPECT_EQ(v->text, "__main__.K");
  ASSERT_TRUE(v->state);
  ASSERT_EQ(v->state->kind, PickleValue::Kind::kDict);
  ASSERT_TRUE(v->state->Get("a"));
  EXPECT_EQ(v->state->Get("a")->integer, 1);
}

TEST(Unpickler, BytesAboveTheKeptSizeAreCountedNotCopied) {
  const std::string pickle = "\x80\x03" "C\x05hello."s;
  EXPECT_EQ(Plain(pickle)->text, "hello");
  EXPECT_EQ(Plain(pickle)->integer, 5);
  UnpickleOptions options;
  options.max_kept_bytes = 4;
  const PickleValuePtr dropped = Plain(pickle, options);
  EXPECT_EQ(dropped->kind, PickleValue::Kind::kBytes);
  EXPECT_EQ(dropped->text, "");
  EXPECT_EQ(dropped->integer, 5);
}

TEST(Unpickler, ReadsProtocol5BytearraysAndSetsAsListsInOrder) {
  const PickleValuePtr bytes = Plain("\x80\x05\x96\x03\x00\x00\x00\x00\x00\x00\x00" "abc."s);
  EXPECT_EQ(bytes->kind, PickleValue::Kind::kBytes);
  EXPECT_EQ(bytes->text, "abc");
  const PickleValuePtr set = Plain("\x80\x04\x8f(K\x02K\x01\x90."s);
  ASSERT_EQ(set->kind, PickleValue::Kind::kList);
  ASSERT_EQ(set->items.size(), 2u);
  EXPECT_EQ(set->items[0]->integer, 2);
  const PickleValuePtr frozen = Plain("\x80\x04(K\x07\x91."s);
  ASSERT_EQ(frozen->kind, PickleValue::Kind::kList);
  EXPECT_EQ(frozen->items.at(0)->integer, 7);
}

TEST(Unpickler, Protocol2BytesAreLatin1EncodedStrs) {
  // Python 3 at protocol 2: b'\x00\xff' is _codecs.encode('\x00\xff', 'latin1').
  const PickleValuePtr v = Plain("\x80\x02" "c_codecs\nencode\nX\x03\x00\x00\x00\x00\xc3\xbf" "X\x06\x00\x00\x00" "latin1\x86R."s);
  ASSERT_EQ(v->kind, PickleValue::Kind::kBytes);
  EXPECT_EQ(v->text, "\x00\xff"s);
}

TEST(Unpickler, MoreValuesThanTheBoundIsAnError) {
  UnpickleOptions options;
  options.max_values = 3;
  const std::string four = "\x80\x02(K\x01K\x02K\x03l."s;  // Three ints and the list.
  EXPECT_NO_THROW(Plain("\x80\x02(K\x01K\x02l."s, options));
  try {
    Plain(four, options);
    ADD_FAILURE() << "accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 3 values"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace segtune
