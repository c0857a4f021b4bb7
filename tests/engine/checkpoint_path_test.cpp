// ResolveCheckpointPath: the TF-style prefixes users pass to `segtune export` (docs/export.md).
#include <gtest/gtest.h>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/engine/checkpoint.h"
#include "test_util.h"

namespace segtune {
namespace {

std::string ErrorOf(const std::filesystem::path& given) {
  try {
    ResolveCheckpointPath(given);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(CheckpointPath, TfPrefixNamesTheStepFile) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "run" / "ckpt-000002.safetensors", "x");
  WriteFileAtomic(dir / "run" / "ckpt-000010.safetensors", "x");
  WriteFileAtomic(dir / "run" / "best.safetensors", "x");
  EXPECT_EQ(ResolveCheckpointPath(dir / "run" / "ckpt-2"), dir / "run" / "ckpt-000002.safetensors");
  EXPECT_EQ(ResolveCheckpointPath(dir / "run" / "ckpt-10.index"), dir / "run" / "ckpt-000010.safetensors");
  EXPECT_EQ(ResolveCheckpointPath(dir / "run" / "ckpt-10.data-00000-of-00001"),
            dir / "run" / "ckpt-000010.safetensors");
  EXPECT_EQ(ResolveCheckpointPath(dir / "run" / "best.safetensors"), dir / "run" / "best.safetensors");
}

TEST(CheckpointPath, MissingCheckpointListsWhatTheDirectoryHolds) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "run" / "ckpt-000002.safetensors", "x");
  WriteFileAtomic(dir / "run" / "best.safetensors", "x");
  const std::string missing = ErrorOf(dir / "run" / "ckpt-3");
  EXPECT_NE(missing.find("run/ckpt-3: checkpoint not found"), std::string::npos) << missing;
  EXPECT_NE(missing.find("holds ckpt-000002.safetensors, best.safetensors"), std::string::npos) << missing;
  const std::string directory = ErrorOf(dir / "run");
  EXPECT_NE(directory.find("is a directory; pass one of its checkpoints (ckpt-000002.safetensors"), std::string::npos)
      << directory;
  const std::string huge = ErrorOf(dir / "run" / "ckpt-99999999999999999999");
  EXPECT_NE(huge.find("checkpoint not found"), std::string::npos) << huge;
  const std::string empty = ErrorOf(dir / "nothing" / "model.pth");
  EXPECT_NE(empty.find("model.pth: checkpoint not found"), std::string::npos) << empty;
  EXPECT_NE(empty.find("no segtune checkpoints"), std::string::npos) << empty;
}

}  // namespace
}  // namespace segtune
