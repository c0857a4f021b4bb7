// `segtune config check` (engine/config_check.h): the config's own checks plus the fine-tune
// checkpoint, and that `segtune train` rejects the same settings.
#include "segtune/engine/config_check.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "segtune/config/config_init.h"
#include "segtune/config/pipeline_config.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/engine/trainer.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"
#include "train_fixture.h"

namespace segtune {
namespace {

using testing::LineOf;

TEST(ConfigTools, InitWritesAConfigThatLoadsWithoutWarningsAndChecksClean) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\nitem { id: 4 name: 'can' }\n");
  {
    TFRecordWriter writer(dir / "train-00000-of-00001");  // Check reads the first record's framing.
    writer.Write("record");
    writer.Close();
  }
  ConfigInitOptions o;
  o.label_map = dir / "label_map.pbtxt";
  o.train = (dir / "train-*").string();
  o.output = dir / "pipeline.config";
  WritePipelineConfig(o);
  const PipelineConfig config = LoadPipelineConfig(o.output);
  EXPECT_TRUE(config.warnings.empty());
  EXPECT_EQ(config.proto.model().segmentation().num_classes(), 5);  // Largest id 4 + background.
  EXPECT_NE(config.text.find("label_map_path: \"label_map.pbtxt\""), std::string::npos);  // Relative.
  const ConfigCheckReport report = CheckPipelineConfig(o.output);
  EXPECT_TRUE(report.ok()) << (report.errors.empty() ? "" : report.errors[0]);
}

TEST(ConfigTools, CheckReportsClassCountMismatchAndMissingRecords) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\nitem { id: 7 name: 'can' }\n");
  WriteFileAtomic(dir / "pipeline.config",
                  "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 5 } }\n"
                  "train_config { num_steps: 1 optimizer { adam_optimizer {} } }\n"
                  "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'nope-*' } }\n");
  const ConfigCheckReport report = CheckPipelineConfig(dir / "pipeline.config");
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_NE(report.errors[0].find("num_classes should be 8"), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[1].find("nope-*"), std::string::npos) << report.errors[1];
}

// Issue 18 item 13: more classes than the label map uses is how TF's own sample configs are written;
// TF trains them with the larger head, so this is a warning saying so, not an error.
TEST(ConfigTools, CheckWarnsWhenNumClassesExceedsTheLabelMap) {
  testing::TempDir dir;
  testing::WriteShapesRecords(dir / "train.record", 1, 32, 1);
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  WriteFileAtomic(dir / "pipeline.config",
                  "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 5 } }\n"
                  "train_config { num_steps: 1 optimizer { adam_optimizer {} } }\n"
                  "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'train.record' } }\n");
  const ConfigCheckReport report = CheckPipelineConfig(dir / "pipeline.config");
  EXPECT_TRUE(report.ok()) << report.errors[0];
  std::string warning;
  for (const auto& w : report.warnings) {
    if (w.find("label_map_path") != std::string::npos) warning = w;
  }
  EXPECT_NE(warning.find("pipeline.config:3: train_input_reader.label_map_path: the label map's largest id is 1, so "
                         "the model gets a 5-class head (background included)"),
            std::string::npos) << warning;
  EXPECT_NE(warning.find("set num_classes to 2 (background included)"), std::string::npos) << warning;
}

// Issue 18 item 10: `config check` passed configs that `train` then rejected or crashed on. Both now run
// ValidateForTraining; each case is an error of check, and train throws the same line before building
// anything (a batch of 1e9 was a bad_alloc, a 100000 fixed size a 30 GB allocation).
struct BadSetting {
  std::vector<std::pair<std::string, std::string>> edits;  // Replacements in the base config.
  std::string field;  // Named in the error, with the line of its text.
  std::string says;
};

TEST(ConfigValidation, CheckAndTrainRejectTheSameSettingsNamingFileLineAndLimit) {
  testing::TempDir dir;
  testing::WriteShapesRecords(dir / "train.record", 2, 32, 1);
  testing::WriteLabelMap(dir / "label_map.pbtxt");
  std::filesystem::create_directories(dir / "records_dir");
  WriteFileAtomic(dir / "notes.txt", "these are not records\n");
  const std::string base =
      "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3\n"
      "  ignore_label: 255\n"
      "  image_resizer { fixed_shape_resizer { height: 64 width: 64 } } } }\n"
      "train_config {\n"
      "  batch_size: 2\n"
      "  num_steps: 1\n"
      "  optimizer { adam_optimizer { learning_rate { constant_learning_rate {\n"
      "    learning_rate: 0.001 } } } }\n"
      "  class_weights: [1, 1, 1]\n"
      "  data_augmentation_options { random_scale_crop { crop_height: 32 crop_width: 32 } }\n"
      "}\n"
      "train_input_reader { label_map_path: 'label_map.pbtxt'\n"
      "  tf_record_input_reader { input_path: 'train.record' } }\n";
  {  // The base config is fine for both.
    WriteFileAtomic(dir / "pipeline.config", base);
    const ConfigCheckReport report = CheckPipelineConfig(dir / "pipeline.config");
    ASSERT_TRUE(report.ok()) << report.errors[0];
  }
  const std::string lr = "train_config.optimizer.adam_optimizer.learning_rate.constant_learning_rate.learning_rate";
  const std::string input_path = "train_input_reader.tf_record_input_reader.input_path";
  const std::vector<BadSetting> cases = {
      {{{"batch_size: 2", "batch_size: 1000000000"}}, "train_config.batch_size",
       "1000000000 is outside 1..1024 (segtune's limit for images per batch)"},
      {{{"height: 64", "height: 100000"}}, "model.segmentation.image_resizer.fixed_shape_resizer.height",
       "100000 is outside 1..8192 (segtune's limit for an image side, resize or crop size)"},
      {{{"height: 64", "height: 0"}}, "model.segmentation.image_resizer.fixed_shape_resizer.height",
       "0 is outside 1..8192"},
      {{{"crop_height: 32", "crop_height: 1000000"}}, "train_config.data_augmentation_options.random_scale_crop.crop_height",
       "1000000 is outside 1..8192"},
      // Each value within its limit, together too much: 32 x 8192^2 pixels (2 x 8192^2 is fine).
      {{{"crop_height: 32 crop_width: 32", "crop_height: 8192 crop_width: 8192"}, {"batch_size: 2", "batch_size: 32"}},
       "train_config.batch_size",
       "32 images of 8192x8192 are 2147483648 pixels per batch, above segtune's limit of 268435456"},
      {{{"learning_rate: 0.001", "learning_rate: nan"}}, lr, "nan is not a finite number"},
      {{{"learning_rate: 0.001", "learning_rate: inf"}}, lr, "inf is not a finite number"},
      {{{"class_weights: [1, 1, 1]", "class_weights: [1, nan, 1]"}}, "train_config.class_weights",
       "value 1 is nan; class weights must be finite and >= 0"},
      {{{"ignore_label: 255", "ignore_label: 300"}}, "model.segmentation.ignore_label",
       "300 is outside 0..255 (a pixel value of the 8-bit target masks)"},
      {{{"input_path: 'train.record'", "input_path: 'records_dir'"}}, input_path,
       "records_dir is a directory, not a TFRecord file"},
      {{{"input_path: 'train.record'", "input_path: 'notes.txt'"}}, input_path,
       "(expected a TFRecord file, e.g. written by coco2tfrecord)"},
  };
  for (const BadSetting& c : cases) {
    std::string text = base;
    for (const auto& [from, to] : c.edits) {
      const size_t at = text.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      text.replace(at, from.size(), to);
    }
    const std::string name = c.edits[0].second;
    WriteFileAtomic(dir / "pipeline.config", text);
    const int line = LineOf(text, c.field.substr(c.field.rfind('.') + 1) + ":");
    const std::string expected = (dir / "pipeline.config").string() + ":" + std::to_string(line) + ": " + c.field + ": ";
    const ConfigCheckReport report = CheckPipelineConfig(dir / "pipeline.config");
    std::string all;
    for (const auto& e : report.errors) all += "\n  " + e;
    ASSERT_EQ(report.errors.size(), 1u) << name << ":" << all;
    EXPECT_NE(report.errors[0].find(expected), std::string::npos) << name << ": " << report.errors[0];
    EXPECT_NE(report.errors[0].find(c.says), std::string::npos) << name << ": " << report.errors[0];
    TrainOptions o;
    o.pipeline_config = dir / "pipeline.config";
    o.train_dir = dir / "train";
    try {
      Train(o);
      ADD_FAILURE() << name << ": train accepted it";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(report.errors[0]), std::string::npos) << name << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace segtune
