// Hostile pipeline configs through the built binary: every verb that reads one fails with a segtune
// error naming the file and line, never a crash.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

using segtune::testing::RunSegtune;
using segtune::testing::TempDir;

namespace {

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Issue 18 item 3: ~20,000 levels inside an unknown field (~100 KB) segfaulted (exit 139) in
// `config check`, `train` and `export`: protobuf's unknown-field skipping recursed per level.
TEST(ConfigInput, DeeplyNestedConfigIsAnErrorInCheckTrainAndExport) {
  TempDir dir;
  std::string text = "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 2 } }\n"
                     "train_config { num_steps: 1\n  use_bfloat16_blocks {";
  for (int i = 0; i < 20000; ++i) text += " a {";
  for (int i = 0; i < 20001; ++i) text += " }";
  text += "\n}\n";
  const auto config = dir / "deep.config";
  Write(config, text);
  const std::string expected = config.string() + ": line 3: nesting deeper than 100 levels";
  for (const std::string& args :
       {"config check '" + config.string() + "'",
        "train --pipeline-config '" + config.string() + "' --train-dir '" + (dir / "train").string() + "'",
        "export --pipeline-config '" + config.string() + "' --checkpoint '" + (dir / "none.safetensors").string() +
            "' --output-dir '" + (dir / "export").string() + "'"}) {
    const auto r = RunSegtune(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;  // A FormatError, not a signal.
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << "\n" << r.output;
  }
}

// Issue 18 item 10: `config check` said OK, then `train` died (here: std::bad_alloc on a batch of 1e9).
// Both now run the same validation, so check fails and train refuses before building anything.
TEST(ConfigInput, CheckAndTrainAgreeOnAnAbsurdBatchSize) {
  TempDir dir;
  Write(dir / "label_map.pbtxt", "item { id: 1 name: 'a' }\n");
  Write(dir / "p.config",
        "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 2 } }\n"
        "train_config {\n  batch_size: 1000000000\n  num_steps: 1\n  optimizer { adam_optimizer {} }\n}\n"
        "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'x.record' } }\n");
  Write(dir / "x.record", "");  // No record: reported too.
  const std::string expected = (dir / "p.config").string() +
                               ":3: train_config.batch_size: 1000000000 is outside 1..1024 (segtune's limit for images per batch)";
  const auto check = RunSegtune("config check '" + (dir / "p.config").string() + "'");
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_NE(check.output.find("error: " + expected), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("the files hold no record"), std::string::npos) << check.output;
  const auto train = RunSegtune("train --pipeline-config '" + (dir / "p.config").string() + "' --train-dir '" +
                                (dir / "train").string() + "'");
  EXPECT_NE(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find(expected), std::string::npos) << train.output;
  EXPECT_EQ(train.output.find("bad_alloc"), std::string::npos) << train.output;
}

}  // namespace
