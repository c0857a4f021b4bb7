// .pth (torch.save zip) reading and writing, checked against real torch.save / torch.load output.
// The container and unpickler alone are tested in tests/formats/{pth_zip,pickle}_test.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/models/pth_reader.h"
#include "segtune/models/safetensors.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

const char* kFixtureScript = "tests/models/reference/make_weights_fixtures.py";

std::string Hex(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.contiguous();
  static const char* digits = "0123456789abcdef";
  std::string hex;
  const auto* p = static_cast<const uint8_t*>(t.data_ptr());
  for (size_t i = 0; i < t.nbytes(); ++i) {
    hex += digits[p[i] >> 4];
    hex += digits[p[i] & 15];
  }
  return hex;
}

nlohmann::json ReadJson(const std::filesystem::path& path) { return nlohmann::json::parse(ReadFile(path)); }

// Every tensor in `reference` (name, dtype, shape, bytes) is in `tensors`, in the same order, exactly.
void ExpectMatchesReference(const NamedTensors& tensors, const nlohmann::json& reference) {
  const auto& expected = reference["tensors"];
  ASSERT_EQ(tensors.items.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, tensor] = tensors.items[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(name, expected[i]["name"].get<std::string>());
    EXPECT_EQ(SafetensorsDtypeName(tensor.scalar_type()), expected[i]["dtype"].get<std::string>());
    EXPECT_EQ(tensor.sizes().vec(), expected[i]["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(Hex(tensor), expected[i]["hex"].get<std::string>());
  }
}

class PthFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto result = testing::RunPython(testing::SourcePath(kFixtureScript) + " make '" + dir_->path().string() + "'");
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};
TempDir* PthFixture::dir_ = nullptr;

TEST_F(PthFixture, ReadsTorchSaveStateDictExactly) {
  const NamedTensors tensors = LoadWeights(*dir_ / "state.pth");
  ExpectMatchesReference(tensors, ReadJson(*dir_ / "reference.json"));
  EXPECT_EQ(tensors.metadata.count("segtune.state_dict_key"), 0u);
}

TEST_F(PthFixture, ReadsViewsSharingOneStorage) {
  const NamedTensors tensors = LoadWeights(*dir_ / "state.pth");
  const torch::Tensor base = torch::arange(40, torch::kFloat32) * 0.5 - 3.25;
  EXPECT_TRUE(torch::equal(*tensors.Find("shared.a"), base.slice(0, 2, 7)));
  EXPECT_TRUE(torch::equal(*tensors.Find("shared.b"), base.slice(0, 10, 18).view({2, 4})));
  EXPECT_TRUE(torch::equal(*tensors.Find("shared.strided"), base.slice(0, 1, 21, 3)));
  EXPECT_EQ(tensors.Find("bn.num_batches_tracked")->item<int64_t>(), 12345678901LL);
  EXPECT_EQ(tensors.Find("scalar")->dim(), 0);
}

TEST_F(PthFixture, UnwrapsCheckpointModelKey) {
  const NamedTensors tensors = LoadWeights(*dir_ / "checkpoint.pth");
  ExpectMatchesReference(tensors, ReadJson(*dir_ / "reference.json"));
  EXPECT_EQ(tensors.metadata.at("segtune.state_dict_key"), "model");
}

TEST_F(PthFixture, SavePthReloadsInTorchLoadAsOrderedDict) {
  const NamedTensors tensors = LoadWeights(*dir_ / "state.pth");
  TempDir out;
  SavePth(tensors, out / "written.pth");
  const auto result = testing::RunPython(testing::SourcePath(kFixtureScript) + " dump '" + (out / "written.pth").string() +
                                         "' '" + (out / "dump.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json dump = ReadJson(out / "dump.json");
  EXPECT_EQ(dump["type"], "OrderedDict");
  ExpectMatchesReference(tensors, dump);
  ExpectMatchesReference(LoadWeights(out / "written.pth"), dump);  // And we read our own output.
}

TEST_F(PthFixture, EveryTruncationIsAFormatError) {
  const std::string bytes = ReadFile(*dir_ / "state.pth");
  TempDir out;
  const auto cut = out / "cut.pth";
  int checked = 0;
  for (size_t length = 0; length < bytes.size(); length += (length < 64 ? 1 : 37)) {
    WriteFileAtomic(cut, std::string_view(bytes).substr(0, length));
    EXPECT_THROW(LoadWeights(cut), FormatError) << "truncated at " << length;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

// Flipped bytes must never crash and never load as different values: either FormatError (the
// zip structure, the pickle or a record's CRC-32 is wrong) or, for bytes nothing reads (padding,
// timestamps), exactly the original tensors.
TEST_F(PthFixture, FlippedBytesAreDetectedOrHarmless) {
  const std::string bytes = ReadFile(*dir_ / "state.pth");
  const NamedTensors original = LoadWeights(*dir_ / "state.pth");
  TempDir out;
  const auto bad = out / "bad.pth";
  std::mt19937 rng(1234);
  int detected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string damaged = bytes;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] ^= char(1 + rng() % 255);
    WriteFileAtomic(bad, damaged);
    try {
      const NamedTensors loaded = LoadWeights(bad);
      ASSERT_EQ(loaded.items.size(), original.items.size()) << "trial " << trial;
      for (size_t i = 0; i < loaded.items.size(); ++i) {
        EXPECT_EQ(loaded.items[i].first, original.items[i].first) << "trial " << trial;
        EXPECT_EQ(Hex(loaded.items[i].second), Hex(original.items[i].second)) << "trial " << trial << " " << loaded.items[i].first;
      }
    } catch (const FormatError&) {
      ++detected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": not a FormatError: " << e.what();
    }
  }
  EXPECT_GT(detected, 200);
}

TEST(PthReader, RandomBytesAreAFormatError) {
  TempDir out;
  std::mt19937 rng(99);
  for (int trial = 0; trial < 50; ++trial) {
    std::string bytes(size_t(rng() % 4096), '\0');
    for (char& c : bytes) c = char(rng());
    if (trial % 2) bytes.replace(0, std::min<size_t>(4, bytes.size()), "PK\x03\x04", std::min<size_t>(4, bytes.size()));
    WriteFileAtomic(out / "random.pth", bytes);
    EXPECT_THROW(LoadWeights(out / "random.pth"), FormatError) << "trial " << trial;
  }
}

TEST(PthReader, NotAStateDictIsAFormatError) {
  TempDir out;
  NamedTensors none;  // A state dict with no tensors is not a usable weights file.
  SavePth(none, out / "empty.pth");
  EXPECT_THROW(LoadWeights(out / "empty.pth"), FormatError);
  WriteFileAtomic(out / "text.pth", "hello, not weights");
  EXPECT_THROW(LoadWeights(out / "text.pth"), FormatError);
}

// Issue 18 item 7: a 4.6 MB deflated .pth declaring 2.2 GB made `weights info` inflate it all. The
// directory's declared sizes are now checked before anything is inflated.
TEST(PthReader, DeflatedEntriesDeclaringFarMoreThanTheFileAreRefusedBeforeInflating) {
  TempDir out;
  NamedTensors small;
  small.items.emplace_back("w", torch::zeros({16}));
  SavePth(small, out / "small.pth");
  const auto result = testing::RunPython(testing::SourcePath("tests/models/reference/deflate_pth.py") + " '" +
                                         (out / "small.pth").string() + "' '" + (out / "bomb.pth").string() +
                                         "' data/0 " + std::to_string(96 << 20));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ASSERT_LT(std::filesystem::file_size(out / "bomb.pth"), 1u << 20);
  for (bool shapes_only : {false, true}) {
    try {
      shapes_only ? LoadWeightShapes(out / "bomb.pth") : LoadWeights(out / "bomb.pth");
      ADD_FAILURE() << "no error";
    } catch (const FormatError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("bomb.pth: zip: compressed entries declare"), std::string::npos) << message;
      EXPECT_NE(message.find("decompression bomb"), std::string::npos) << message;
    }
  }
}

TEST(PthReader, DeflatedArchiveWithinTheLimitStillLoads) {
  TempDir out;
  NamedTensors small;
  small.items.emplace_back("w", torch::arange(16, torch::kFloat));
  SavePth(small, out / "small.pth");
  const auto result = testing::RunPython(testing::SourcePath("tests/models/reference/deflate_pth.py") + " '" +
                                         (out / "small.pth").string() + "' '" + (out / "deflated.pth").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const NamedTensors loaded = LoadWeights(out / "deflated.pth");
  ASSERT_EQ(loaded.items.size(), 1u);
  EXPECT_TRUE(torch::equal(loaded.items[0].second, torch::arange(16, torch::kFloat)));
}

// `weights info` needs names, dtypes and shapes only: no tensor data is inflated or copied.
TEST(PthReader, WeightShapesAreMetaTensorsWithTheRightShapes) {
  TempDir out;
  NamedTensors tensors;
  tensors.items.emplace_back("conv.weight", torch::ones({8, 3, 3, 3}));
  tensors.items.emplace_back("bn.num_batches_tracked", torch::zeros({}, torch::kLong));
  SavePth(tensors, out / "m.pth");
  const NamedTensors shapes = LoadWeightShapes(out / "m.pth");
  ASSERT_EQ(shapes.items.size(), 2u);
  EXPECT_TRUE(shapes.items[0].second.is_meta());
  EXPECT_EQ(shapes.items[0].second.sizes().vec(), (std::vector<int64_t>{8, 3, 3, 3}));
  EXPECT_EQ(shapes.items[1].second.scalar_type(), torch::kLong);
  EXPECT_NE(DescribeWeights(shapes).find("2 tensors, 217 parameters"), std::string::npos) << DescribeWeights(shapes);
}

}  // namespace
}  // namespace segtune
