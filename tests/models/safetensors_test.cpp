// .safetensors, the torch side: round trips of every dtype, the writer's order, Python reading our
// files. The format's validation rules are tested in tests/formats/safetensors_test.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/models/safetensors.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

NamedTensors MixedTensors() {
  NamedTensors t;
  t.items = {{"z.f32", torch::randn({2, 3})},
             {"a.i64", torch::tensor({int64_t(1) << 40, int64_t(-5)}, torch::kLong)},
             {"m.f16", torch::randn({4}).to(torch::kHalf)},
             {"b.u8", torch::tensor({0, 255}, torch::kByte)},
             {"c.bool", torch::tensor({true, false})},
             {"d.bf16", torch::randn({3}).to(torch::kBFloat16)},
             {"e.f64.scalar", torch::tensor(3.5, torch::kDouble)},
             {"f.empty", torch::zeros({0, 2})},
             {"g.transposed", torch::arange(6, torch::kInt).view({2, 3}).t()}};
  t.metadata = {{"format", "pt"}, {"note", "quote \" and unicode \xc3\xa9"}};
  return t;
}

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  TempDir dir;
  const NamedTensors written = MixedTensors();
  SaveSafetensors(written, dir / "a.safetensors");
  const NamedTensors read = LoadWeights(dir / "a.safetensors");
  EXPECT_EQ(read.metadata, written.metadata);
  ASSERT_EQ(read.items.size(), written.items.size());
  for (const auto& [name, tensor] : written.items) {
    const torch::Tensor* back = read.Find(name);
    ASSERT_NE(back, nullptr) << name;
    EXPECT_EQ(back->scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(back->sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(torch::equal(*back, tensor)) << name;
  }
}

// ReadSafetensors: tensors are views of one buffer holding the file; one whose data is not aligned
// to its element size (a foreign writer's layout) is copied, with the same values.
TEST(Safetensors, ReadTensorsShareOneBufferAndUnalignedOnesAreCopied) {
  TempDir dir;
  std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]},)"
                       R"("c":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
                       R"("d":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},)"
                       R"("pad":{"dtype":"U8","shape":[3],"data_offsets":[9,12]}})";
  while ((8 + header.size()) % 8 != 0) header += ' ';
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[size_t(i)] = char((header.size() >> (8 * i)) & 0xff);
  file += header;
  const float b[2] = {1.5f, -2.25f}, c[2] = {3.0f, 4.5f}, d[1] = {7.0f};
  file += char(42);
  file.append(reinterpret_cast<const char*>(b), sizeof(b));
  file += std::string(3, char(9));
  file.append(reinterpret_cast<const char*>(c), sizeof(c));
  file.append(reinterpret_cast<const char*>(d), sizeof(d));
  WriteFileAtomic(dir / "x.safetensors", file);

  const NamedTensors read = LoadWeights(dir / "x.safetensors");
  const torch::Tensor tb = *read.Find("b"), tc = *read.Find("c"), td = *read.Find("d");
  EXPECT_EQ(read.Find("a")->item<uint8_t>(), 42);
  EXPECT_EQ(tb[0].item<float>(), 1.5f);
  EXPECT_EQ(tb[1].item<float>(), -2.25f);
  EXPECT_EQ(tc[1].item<float>(), 4.5f);
  EXPECT_EQ(td[0].item<float>(), 7.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tb.data_ptr()) % 4, 0u);  // Copied: aligned memory of its own.
  // c and d are views, 8 bytes apart as in the file; writing through one leaves the other alone.
  EXPECT_EQ(static_cast<char*>(td.data_ptr()) - static_cast<char*>(tc.data_ptr()), 8);
  tc.fill_(0);
  EXPECT_EQ(td[0].item<float>(), 7.0f);
}

TEST(Safetensors, WriterOrdersByDtypeThenNameAndPadsHeader) {
  const std::string bytes = SerializeSafetensors(MixedTensors());
  const uint64_t n = uint8_t(bytes[0]) | uint64_t(uint8_t(bytes[1])) << 8;
  EXPECT_EQ(n % 8, 0u);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.rfind("{\"__metadata__\":", 0), 0u) << header;
  // Reference dtype order, descending: I64, F64, F32, I32, BF16, F16, U8, BOOL.
  std::vector<std::string> order;
  for (const auto& [name, t] : ParseSafetensors(bytes, "mem").items) order.push_back(name);
  EXPECT_EQ(order, (std::vector<std::string>{"a.i64", "e.f64.scalar", "f.empty", "z.f32", "g.transposed", "d.bf16",
                                             "m.f16", "b.u8", "c.bool"}));
}

TEST(Safetensors, PythonParsesOurFileByHand) {
  TempDir dir;
  const NamedTensors written = MixedTensors();
  SaveSafetensors(written, dir / "a.safetensors");
  const auto result = testing::RunPython(testing::SourcePath("tests/models/reference/make_weights_fixtures.py") +
                                         " safetensors '" + (dir / "a.safetensors").string() + "' '" +
                                         (dir / "out.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = nlohmann::json::parse(ReadFile(dir / "out.json"));
  EXPECT_EQ(json["metadata"]["note"], written.metadata.at("note"));
  EXPECT_TRUE(json["layout"]["padded"].get<bool>());
  ASSERT_EQ(json["tensors"].size(), written.items.size());
  for (const auto& t : json["tensors"]) {
    const torch::Tensor* mine = written.Find(t["name"].get<std::string>());
    ASSERT_NE(mine, nullptr);
    EXPECT_EQ(t["dtype"], SafetensorsDtypeName(mine->scalar_type()));
    EXPECT_EQ(t["shape"].get<std::vector<int64_t>>(), mine->sizes().vec());
    const torch::Tensor c = mine->contiguous();
    EXPECT_EQ(t["hex"].get<std::string>().size(), 2 * c.nbytes());
  }
}

// The torch side maps dtypes: one the file formats cannot hold is refused by both writers, naming it.
TEST(Safetensors, WritersRefuseDtypesTheFormatsCannotHold) {
  NamedTensors t;
  t.items = {{"c", torch::zeros({2}, torch::kComplexFloat)}};
  try {
    SerializeSafetensors(t);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("safetensors cannot store tensors of dtype ComplexFloat"), std::string::npos) << e.what();
  }
  TempDir dir;
  try {
    SavePth(t, dir / "c.pth");
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("c.pth: tensor 'c' has dtype ComplexFloat"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "c.pth"));
}

}  // namespace
}  // namespace segtune
