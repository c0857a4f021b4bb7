// `segtune config check` without the weights (config/config_check.h). The checkpoint part and the
// agreement with `segtune train` are tested in tests/engine/config_check_test.cpp.
#include "segtune/config/config_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

const char* kConfig =
    "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 2 } }\n"
    "train_config {\n  batch_size: 2\n  optimizer { adam_optimizer {} }\n}\n"
    "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'train.record' } }\n";

class ConfigCheckSettings : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFileAtomic(dir_ / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
    TFRecordWriter writer(dir_ / "train.record");
    writer.Write("record");
    writer.Close();
  }
  PipelineConfig Write(const std::string& text) {
    WriteFileAtomic(dir_ / "pipeline.config", text);
    return LoadPipelineConfig(dir_ / "pipeline.config");
  }
  testing::TempDir dir_;
};

TEST_F(ConfigCheckSettings, ReportsTheModelAndAZeroStepCount) {
  ConfigCheckReport report;
  const std::optional<CheckedModel> model = CheckPipelineConfigSettings(Write(kConfig), &report);
  EXPECT_TRUE(report.ok()) << report.errors[0];
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(model->name, "lraspp_mobilenet_v3_large");
  EXPECT_EQ(model->num_classes, 2);
  EXPECT_NE(std::find(report.notes.begin(), report.notes.end(), "model lraspp_mobilenet_v3_large"), report.notes.end());
  EXPECT_NE(std::find(report.warnings.begin(), report.warnings.end(),
                      "train_config.num_steps is 0: pass --num-steps to segtune train"),
            report.warnings.end());
}

TEST_F(ConfigCheckSettings, AnErrorInAModelSettingNamesFileAndLineAndSkipsTheCheckpoint) {
  std::string text = kConfig;
  text.replace(text.find("num_classes: 2"), 14, "num_classes: 300");
  ConfigCheckReport report;
  EXPECT_FALSE(CheckPipelineConfigSettings(Write(text), &report).has_value());
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors[0].find((dir_ / "pipeline.config").string() + ":1: model.segmentation.num_classes: 300 is "
                                  "outside 1..256"),
            std::string::npos) << report.errors[0];
}

TEST_F(ConfigCheckSettings, AnUnknownArchitectureIsAnErrorListingTheCatalog) {
  std::string text = kConfig;
  text.replace(text.find("lraspp_mobilenet_v3_large"), 25, "deeplabv4");
  ConfigCheckReport report;
  EXPECT_FALSE(CheckPipelineConfigSettings(Write(text), &report).has_value());
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors[0].find("model.segmentation.architecture: unknown model 'deeplabv4'; known models: "
                                  "lraspp_mobilenet_v3_large, "),
            std::string::npos) << report.errors[0];
}

}  // namespace
}  // namespace segtune
