// Pipeline config loading: segtune's schema, real TF OD API configs (warnings + model mapping), paths.
#include "segtune/engine/pipeline_config.h"

#include <gtest/gtest.h>

#include <regex>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune {
namespace {

const ConfigWarning* FindWarning(const PipelineConfig& config, const std::string& field) {
  for (const auto& w : config.warnings) {
    if (w.field == field) return &w;
  }
  return nullptr;
}

// Line (1-based) of the first line of `text` containing `needle`.
int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  return at == std::string::npos ? -1 : 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

TEST(PipelineConfig, LoadsTfFasterRcnnResnet50ConfigWithWarningsAndMapping) {
  testing::TempDir dir;
  std::string text = ReadFile(testing::SourcePath("tests/engine/testdata/faster_rcnn_resnet50_v1_640x640_coco17_tpu-8.config"));
  text = std::regex_replace(text, std::regex("PATH_TO_BE_CONFIGURED"), "data");
  WriteFileAtomic(dir / "pipeline.config", text);

  const PipelineConfig config = LoadPipelineConfig(dir / "pipeline.config");

  // Mapping: the ResNet-50 Faster R-CNN becomes DeepLabV3-ResNet50 with background added.
  const auto& seg = config.proto.model().segmentation();
  EXPECT_EQ(seg.architecture(), "deeplabv3_resnet50");
  EXPECT_EQ(seg.num_classes(), 91);
  EXPECT_EQ(seg.image_resizer().keep_aspect_ratio_resizer().max_dimension(), 640);
  EXPECT_TRUE(seg.image_resizer().keep_aspect_ratio_resizer().pad_to_max_dimension());
  EXPECT_NE(config.mapped_from.find("faster_rcnn_resnet50_keras"), std::string::npos);
  const ConfigWarning* mapping = FindWarning(config, "model.faster_rcnn");
  ASSERT_NE(mapping, nullptr);
  EXPECT_NE(mapping->message.find("deeplabv3_resnet50"), std::string::npos) << mapping->message;

  // Unsupported fields: warnings with their dotted path and line, one per occurrence.
  struct Expected {
    const char* field;
    const char* line_text;
  };
  for (const Expected& e : {Expected{"model.faster_rcnn.feature_extractor.batch_norm_trainable", "batch_norm_trainable"},
                            Expected{"model.faster_rcnn.first_stage_anchor_generator", "first_stage_anchor_generator"},
                            Expected{"model.faster_rcnn.second_stage_post_processing", "second_stage_post_processing"},
                            Expected{"train_config.sync_replicas", "sync_replicas"},
                            Expected{"train_config.optimizer.use_moving_average", "use_moving_average"},
                            Expected{"train_config.fine_tune_checkpoint_version", "fine_tune_checkpoint_version"},
                            Expected{"train_config.use_bfloat16", "use_bfloat16"},
                            Expected{"eval_config.use_moving_averages", "use_moving_averages"}}) {
    const ConfigWarning* w = FindWarning(config, e.field);
    ASSERT_NE(w, nullptr) << "no warning for " << e.field;
    EXPECT_EQ(w->line, LineOf(text, e.line_text)) << e.field;
    EXPECT_NE(w->message.find("ignored"), std::string::npos);
  }
  // Fields inside an unknown block are skipped with it, not reported one by one.
  EXPECT_EQ(FindWarning(config, "model.faster_rcnn.first_stage_anchor_generator.grid_anchor_generator"), nullptr);
  // The TF checkpoint cannot be read: said up front.
  const ConfigWarning* ckpt = FindWarning(config, "train_config.fine_tune_checkpoint");
  ASSERT_NE(ckpt, nullptr);
  EXPECT_NE(ckpt->message.find("TensorFlow checkpoint"), std::string::npos);

  // What segtune does use is read.
  const auto& train = config.proto.train_config();
  EXPECT_EQ(train.batch_size(), 64u);
  EXPECT_EQ(train.num_steps(), 25000u);
  EXPECT_FLOAT_EQ(train.optimizer().momentum_optimizer().learning_rate().cosine_decay_learning_rate().learning_rate_base(),
                  0.04f);
  EXPECT_EQ(train.data_augmentation_options_size(), 1);
  EXPECT_TRUE(train.data_augmentation_options(0).has_random_horizontal_flip());
  EXPECT_EQ(train.fine_tune_checkpoint_type(), "classification");
  EXPECT_EQ(config.proto.eval_input_reader(0).num_epochs(), 1u);
  EXPECT_EQ(config.proto.eval_config().batch_size(), 1u);

  // Relative paths resolve against the config's directory.
  EXPECT_EQ(config.proto.train_input_reader().label_map_path(), (dir / "data/label_map.txt").string());
  EXPECT_EQ(config.proto.train_input_reader().tf_record_input_reader().input_path(0),
            (dir / "data/train2017-?????-of-00256.tfrecord").string());
  EXPECT_EQ(train.fine_tune_checkpoint(), (dir / "data/resnet50.ckpt-1").string());
}

TEST(PipelineConfig, WarningToStringNamesFileLineAndField) {
  const PipelineConfig config = ParsePipelineConfig(
      "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3 } }\n"
      "train_config {\n  batch_size: 2\n  use_bfloat16: true\n}\n",
      "cfg/pipeline.config");
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].ToString("cfg/pipeline.config"),
            "cfg/pipeline.config:4: train_config.use_bfloat16: not supported by segtune; ignored");
}

TEST(PipelineConfig, SegtuneConfigLoadsWithoutWarnings) {
  const PipelineConfig config = ParsePipelineConfig(R"(
model { segmentation { architecture: "lraspp_mobilenet_v3_large" num_classes: 3
        image_resizer { fixed_shape_resizer { height: 64 width: 64 } } } }
train_config {
  batch_size: 2 num_steps: 10 seed: 7
  optimizer { adam_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.001 warmup_steps: 5 } }
                               weight_decay: 0.01 } }
  data_augmentation_options { random_scale_crop { crop_height: 48 crop_width: 48 } }
  freeze_variables: "backbone\\.0\\..*"
}
train_input_reader { label_map_path: "/abs/label_map.pbtxt" tf_record_input_reader { input_path: "a.record,b.record" } }
eval_input_reader { tf_record_input_reader { input_path: "val.record" } }
)",
                                                    "/work/cfg/pipeline.config");
  EXPECT_TRUE(config.warnings.empty()) << config.warnings[0].ToString(config.path);
  EXPECT_EQ(config.proto.train_config().seed(), 7u);
  EXPECT_EQ(config.proto.train_config().freeze_variables(0), "backbone\\.0\\..*");
  EXPECT_EQ(config.proto.train_input_reader().label_map_path(), "/abs/label_map.pbtxt");
  EXPECT_EQ(config.proto.train_input_reader().tf_record_input_reader().input_path(0),
            "/work/cfg/a.record,/work/cfg/b.record");
  EXPECT_EQ(config.proto.eval_input_reader(0).tf_record_input_reader().input_path(0), "/work/cfg/val.record");
}

TEST(PipelineConfig, SyntaxErrorNamesFileAndLine) {
  try {
    ParsePipelineConfig("model {\n  segmentation {\n    num_classes: three\n  }\n}\n", "bad.config");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.config: line 3"), std::string::npos) << e.what();
  }
}

TEST(PipelineConfig, MapsSsdMobileNetToLrasppAndRejectsInception) {
  const PipelineConfig ssd = ParsePipelineConfig(
      "model { ssd { num_classes: 2 feature_extractor { type: 'ssd_mobilenet_v2_fpn_keras' depth_multiplier: 1.0 } "
      "box_coder { faster_rcnn_box_coder {} } } }",
      "ssd.config");
  EXPECT_EQ(ssd.proto.model().segmentation().architecture(), "lraspp_mobilenet_v3_large");
  EXPECT_EQ(ssd.proto.model().segmentation().num_classes(), 3);
  try {
    ParsePipelineConfig("model { faster_rcnn { num_classes: 2 feature_extractor { type: 'faster_rcnn_inception_v2' } } }",
                        "inception.config");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("faster_rcnn_inception_v2"), std::string::npos) << what;
    EXPECT_NE(what.find("model { segmentation {"), std::string::npos) << what;  // Says what to write.
    EXPECT_NE(what.find("deeplabv3_resnet50"), std::string::npos) << what;
  }
}

TEST(PipelineConfig, MissingModelIsAClearError) {
  EXPECT_THROW(ParsePipelineConfig("train_config { batch_size: 1 }", "x.config"), FormatError);
  EXPECT_THROW(ParsePipelineConfig("model { }", "x.config"), FormatError);
}

TEST(PipelineConfig, NearestModelForTfFeatureExtractors) {
  EXPECT_EQ(NearestSegmentationModel("faster_rcnn_resnet50"), "deeplabv3_resnet50");
  EXPECT_EQ(NearestSegmentationModel("faster_rcnn_resnet50_fpn_keras"), "deeplabv3_resnet50");
  EXPECT_EQ(NearestSegmentationModel("faster_rcnn_resnet101_keras"), "deeplabv3_resnet101");
  EXPECT_EQ(NearestSegmentationModel("ssd_mobilenet_v3_large"), "lraspp_mobilenet_v3_large");
  EXPECT_EQ(NearestSegmentationModel("faster_rcnn_nas"), "");
}

}  // namespace
}  // namespace segtune

#include "segtune/engine/config_tools.h"

namespace segtune {
namespace {

TEST(ConfigTools, InitWritesAConfigThatLoadsWithoutWarningsAndChecksClean) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\nitem { id: 4 name: 'can' }\n");
  WriteFileAtomic(dir / "train-00000-of-00001", "");
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
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  WriteFileAtomic(dir / "pipeline.config",
                  "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 5 } }\n"
                  "train_config { num_steps: 1 optimizer { adam_optimizer {} } }\n"
                  "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'nope-*' } }\n");
  const ConfigCheckReport report = CheckPipelineConfig(dir / "pipeline.config");
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_NE(report.errors[0].find("num_classes should be 2"), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[1].find("nope-*"), std::string::npos) << report.errors[1];
}

}  // namespace
}  // namespace segtune
