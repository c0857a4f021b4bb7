// LoadWeights format detection, segtune checkpoints, and the `weights info` / `weights convert` verbs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/models/safetensors.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

NamedTensors Model() {
  NamedTensors t;
  t.items = {{"backbone.0.weight", torch::randn({4, 3, 3, 3})},
             {"backbone.0.num_batches_tracked", torch::tensor(int64_t(5))},
             {"classifier.bias", torch::randn({21}).to(torch::kHalf)}};
  return t;
}

TEST(Checkpoint, LoadWeightsReturnsOnlyModelTensorsWithPrefixStripped) {
  TempDir dir;
  const NamedTensors model = Model();
  NamedTensors checkpoint;
  for (const auto& [name, t] : model.items) checkpoint.items.emplace_back(kCheckpointModelPrefix + name, t);
  checkpoint.items.emplace_back("optimizer.state.0.momentum_buffer", torch::ones({4}));
  checkpoint.metadata = {{kCheckpointKindKey, kCheckpointKind}, {"segtune.step", "1200"}};
  SaveSafetensors(checkpoint, dir / "ckpt.safetensors");

  const NamedTensors loaded = LoadWeights(dir / "ckpt.safetensors");
  EXPECT_EQ(loaded.metadata.at("segtune.step"), "1200");
  EXPECT_TRUE(IsSegtuneCheckpoint(loaded));
  ASSERT_EQ(loaded.items.size(), model.items.size());
  for (const auto& [name, t] : model.items) {
    ASSERT_NE(loaded.Find(name), nullptr) << name;
    EXPECT_TRUE(torch::equal(*loaded.Find(name), t)) << name;
  }
  EXPECT_EQ(loaded.Find("optimizer.state.0.momentum_buffer"), nullptr);
  EXPECT_EQ(ReadSafetensors(dir / "ckpt.safetensors").items.size(), 4u);  // The trainer sees everything.
}

TEST(Checkpoint, WithoutModelTensorsIsAFormatError) {
  TempDir dir;
  NamedTensors checkpoint;
  checkpoint.items = {{"optimizer.x", torch::ones({1})}};
  checkpoint.metadata = {{kCheckpointKindKey, kCheckpointKind}};
  SaveSafetensors(checkpoint, dir / "ckpt.safetensors");
  EXPECT_THROW(LoadWeights(dir / "ckpt.safetensors"), FormatError);
}

TEST(LoadWeights, NotAWeightsFileIsAFormatErrorAndMissingIsAnIoError) {
  TempDir dir;
  WriteFileAtomic(dir / "notes.txt", "{\"json\": true}");
  EXPECT_THROW(LoadWeights(dir / "notes.txt"), FormatError);
  WriteFileAtomic(dir / "empty.pth", "");
  EXPECT_THROW(LoadWeights(dir / "empty.pth"), FormatError);
  EXPECT_THROW(LoadWeights(dir / "absent.pth"), IoError);
}

TEST(WeightsCli, InfoListsTensorsAndTotalParameters) {
  TempDir dir;
  SavePth(Model(), dir / "m.pth");
  const auto result = testing::RunSegtune("weights info '" + (dir / "m.pth").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("backbone.0.weight"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("F16"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("[4, 3, 3, 3]"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("3 tensors, 130 parameters"), std::string::npos) << result.output;  // 108 + 1 + 21.
}

// issue 18 item 12: tensor names and metadata from the file reached the terminal with their escapes.
TEST(WeightsCli, InfoEscapesControlCharactersInNamesAndMetadata) {
  TempDir dir;
  NamedTensors t;
  t.items = {{"evil\x1b]0;pwned\x07\x1b[2J.weight", torch::ones({2})}, {"line\nfake 999 tensors", torch::ones({1})}};
  t.metadata = {{"note", "\x1b[31mred"}};
  SaveSafetensors(t, dir / "evil.safetensors");
  const auto result = testing::RunSegtune("weights info '" + (dir / "evil.safetensors").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find('\x1b'), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find('\x07'), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("evil\\x1b]0;pwned\\x07\\x1b[2J.weight"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("line\\nfake 999 tensors"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("metadata note = \\x1b[31mred"), std::string::npos) << result.output;
}

TEST(WeightsCli, ConvertRoundTripsPthAndSafetensors) {
  TempDir dir;
  const NamedTensors model = Model();
  SavePth(model, dir / "m.pth");
  ASSERT_EQ(testing::RunSegtune("weights convert '" + (dir / "m.pth").string() + "' '" +
                                (dir / "m.safetensors").string() + "'").exit_code, 0);
  ASSERT_EQ(testing::RunSegtune("weights convert '" + (dir / "m.safetensors").string() + "' '" +
                                (dir / "back.pth").string() + "'").exit_code, 0);
  const NamedTensors back = LoadWeights(dir / "back.pth");
  ASSERT_EQ(back.items.size(), model.items.size());
  for (const auto& [name, t] : model.items) EXPECT_TRUE(torch::equal(*back.Find(name), t)) << name;
  const auto bad = testing::RunSegtune("weights convert '" + (dir / "m.pth").string() + "' '" + (dir / "m.onnx").string() + "'");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

}  // namespace
}  // namespace segtune
