// Pipeline config loading: segtune's schema, real TF OD API configs (warnings + model mapping), paths.
#include "segtune/config/pipeline_config.h"

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

using testing::LineOf;

TEST(PipelineConfig, LoadsTfFasterRcnnResnet50ConfigWithWarningsAndMapping) {
  testing::TempDir dir;
  std::string text = ReadFile(testing::SourcePath("tests/config/testdata/faster_rcnn_resnet50_v1_640x640_coco17_tpu-8.config"));
  text = std::regex_replace(text, std::regex("PATH_TO_BE_CONFIGURED"), "data");
  WriteFileAtomic(dir / "pipeline.config", text);

  const PipelineConfig config = LoadPipelineConfig(dir / "pipeline.config");

  // Mapping: the ResNet-50 Faster R-CNN becomes torchvision's fasterrcnn_resnet50_fpn with background added.
  const auto& det = config.proto.model().detection();
  EXPECT_EQ(det.architecture(), "fasterrcnn_resnet50_fpn");
  EXPECT_EQ(det.num_classes(), 91);
  EXPECT_EQ(det.min_size(), 640);
  EXPECT_EQ(det.max_size(), 640);
  EXPECT_EQ(det.box_detections_per_img(), 300);
  EXPECT_FLOAT_EQ(det.rpn_box_loss_weight(), 2.0f);
  EXPECT_NE(config.mapped_from.find("faster_rcnn_resnet50_keras"), std::string::npos);
  const ConfigWarning* mapping = FindWarning(config, "model.faster_rcnn");
  ASSERT_NE(mapping, nullptr);
  EXPECT_NE(mapping->message.find("fasterrcnn_resnet50_fpn"), std::string::npos) << mapping->message;

  // Unsupported fields: warnings with their dotted path and line, one per occurrence.
  struct Expected {
    const char* field;
    const char* line_text;
  };
  for (const Expected& e : {Expected{"model.faster_rcnn.feature_extractor.batch_norm_trainable", "batch_norm_trainable"},
                            Expected{"model.faster_rcnn.first_stage_anchor_generator", "first_stage_anchor_generator"},
                            Expected{"model.faster_rcnn.second_stage_box_predictor.mask_rcnn_box_predictor.fc_hyperparams",
                                     "fc_hyperparams"},
                            Expected{"model.faster_rcnn.use_static_shapes", "use_static_shapes"},
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

TEST(PipelineConfig, MapsSsdMobileNetToLrasppAndRejectsNasFasterRcnn) {
  const PipelineConfig ssd = ParsePipelineConfig(
      "model { ssd { num_classes: 2 feature_extractor { type: 'ssd_mobilenet_v2_fpn_keras' depth_multiplier: 1.0 } "
      "box_coder { faster_rcnn_box_coder {} } } }",
      "ssd.config");
  EXPECT_EQ(ssd.proto.model().segmentation().architecture(), "lraspp_mobilenet_v3_large");
  EXPECT_EQ(ssd.proto.model().segmentation().num_classes(), 3);
  try {
    ParsePipelineConfig("model { faster_rcnn { num_classes: 2 feature_extractor { type: 'faster_rcnn_nas' } } }",
                        "nas.config");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("faster_rcnn_nas"), std::string::npos) << what;
    EXPECT_NE(what.find("model { detection {"), std::string::npos) << what;  // Says what to write.
    EXPECT_NE(what.find("fasterrcnn_mobilenet_v3_large_320_fpn"), std::string::npos) << what;
  }
}

TEST(PipelineConfig, MissingModelIsAClearError) {
  EXPECT_THROW(ParsePipelineConfig("train_config { batch_size: 1 }", "x.config"), FormatError);
  EXPECT_THROW(ParsePipelineConfig("model { }", "x.config"), FormatError);
}

TEST(PipelineConfig, NearestModelForTfFeatureExtractors) {
  EXPECT_EQ(NearestSemanticModel("faster_rcnn_resnet50"), "deeplabv3_resnet50");
  EXPECT_EQ(NearestSemanticModel("faster_rcnn_resnet50_fpn_keras"), "deeplabv3_resnet50");
  EXPECT_EQ(NearestSemanticModel("faster_rcnn_resnet101_keras"), "deeplabv3_resnet101");
  EXPECT_EQ(NearestSemanticModel("ssd_mobilenet_v3_large"), "lraspp_mobilenet_v3_large");
  EXPECT_EQ(NearestSemanticModel("faster_rcnn_nas"), "");
}

// The n-th (0-based) warning for `field`, or nullptr.
const ConfigWarning* NthWarning(const PipelineConfig& config, const std::string& field, int n) {
  for (const auto& w : config.warnings) {
    if (w.field == field && n-- == 0) return &w;
  }
  return nullptr;
}

TEST(PipelineConfig, TfMaskRcnnConfigWarnsAboutEveryDeclaredFieldSegtuneDoesNotHonour) {
  testing::TempDir dir;
  std::string text = ReadFile(testing::SourcePath("tests/config/testdata/mask_rcnn_resnet50_atrous_coco.config"));
  text = std::regex_replace(text, std::regex("PATH_TO_BE_CONFIGURED"), "data");
  WriteFileAtomic(dir / "pipeline.config", text);
  const PipelineConfig config = LoadPipelineConfig(dir / "pipeline.config");
  EXPECT_EQ(config.proto.model().detection().architecture(), "maskrcnn_resnet50_fpn");

  struct Expected {
    const char* field;
    const char* line_text;
    int occurrence;  // Of the warnings for field.
    const char* says;
  };
  for (const Expected& e :
       {Expected{"train_input_reader.num_readers", "num_readers: 8", 0, "num_workers"},
        Expected{"train_input_reader.shuffle_buffer_size", "shuffle_buffer_size: 1024", 0, "full permutation"},
        Expected{"train_input_reader.num_epochs", "num_epochs: 10", 0, "num_steps"},
        Expected{"eval_input_reader.num_readers", "num_readers: 1", 0, "ignored"},
        // Unknown to the schema: reported by the parser.
        Expected{"train_config.from_detection_checkpoint", "from_detection_checkpoint", 0, "ignored"},
        Expected{"eval_config.max_evals", "max_evals: 10", 0, "ignored"},
        Expected{"model.faster_rcnn.number_of_stages", "number_of_stages", 0, "ignored"}}) {
    const ConfigWarning* w = NthWarning(config, e.field, e.occurrence);
    ASSERT_NE(w, nullptr) << "no warning for " << e.field << " (" << e.line_text << ")";
    EXPECT_EQ(w->line, LineOf(text, e.line_text)) << e.field;
    EXPECT_NE(w->message.find(e.says), std::string::npos) << w->message;
    EXPECT_NE(w->ToString(config.path).find(":" + std::to_string(w->line) + ": " + e.field), std::string::npos);
  }
  // Honoured as TF means them: PNG instance masks, load_instance_masks, eval shuffle: false, prefetch,
  // COCO box and mask metrics (Mask R-CNN evaluates both).
  for (const char* honoured : {"eval_config.metrics_set", "train_input_reader.mask_type", "train_input_reader.load_instance_masks",
                               "eval_input_reader.shuffle", "train_input_reader.num_prefetch_batches",
                               "eval_input_reader.mask_type", "eval_config.num_examples"}) {
    EXPECT_EQ(FindWarning(config, honoured), nullptr) << honoured;
  }
  EXPECT_EQ(config.proto.train_input_reader().num_prefetch_batches(), 4u);
}

TEST(PipelineConfig, WarnsAboutIgnoredAugmentationResizerAndInputSettings) {
  const std::string text =
      "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3\n"
      "  image_resizer { keep_aspect_ratio_resizer { min_dimension: 64 max_dimension: 96\n"
      "    per_channel_pad_value: [0.5, 0.5, 0.5] convert_to_grayscale: true } } } }\n"
      "train_config {\n"
      "  data_augmentation_options { random_adjust_hue { max_delta: 0.1 } }\n"
      "  data_augmentation_options { random_horizontal_flip { keypoint_flip_permutation: [1, 0] } }\n"
      "  data_augmentation_options { random_distort_color { color_ordering: 1 } }\n"
      "  data_augmentation_options { normalize_image { original_minval: 0 original_maxval: 255 } }\n"
      "}\n"
      "train_input_reader { load_instance_masks: false mask_type: NUMERICAL_MASKS }\n"
      "eval_config { include_metrics_per_category: false }\n"
      "eval_input_reader { shuffle: true num_epochs: 2 }\n"
      "eval_input_reader { shuffle: false }\n";
  const PipelineConfig config = ParsePipelineConfig(text, "aug.config");
  struct Expected {
    std::string field;
    int line;
    const char* says;
  };
  const std::string aug = "train_config.data_augmentation_options.";
  const std::string resizer = "model.segmentation.image_resizer.keep_aspect_ratio_resizer.";
  for (const Expected& e : {Expected{resizer + "per_channel_pad_value", 3, "pads"},
                            Expected{resizer + "convert_to_grayscale", 3, "RGB"},
                            Expected{aug + "random_horizontal_flip.keypoint_flip_permutation", 6, "keypoints"},
                            Expected{aug + "random_horizontal_flip", 6, "fixed order"},
                            Expected{aug + "random_distort_color.color_ordering", 7, "color_ordering 0"},
                            Expected{aug + "random_distort_color", 7, "hue already set by random_adjust_hue"},
                            Expected{aug + "normalize_image", 8, "mean/std"},
                            Expected{"train_input_reader.load_instance_masks", 10, "instance"},
                            Expected{"train_input_reader.mask_type", 10, "PNG"},
                            Expected{"eval_config.include_metrics_per_category", 11, "per-class IoU"},
                            Expected{"eval_input_reader.shuffle", 12, "in order"},
                            Expected{"eval_input_reader.num_epochs", 12, "one pass"},
                            Expected{"eval_input_reader", 13, "first eval_input_reader only"}}) {
    bool found = false;
    for (const auto& w : config.warnings) {
      if (w.field != e.field || w.message.find(e.says) == std::string::npos) continue;
      found = true;
      EXPECT_EQ(w.line, e.line) << e.field;
    }
    EXPECT_TRUE(found) << "no warning for " << e.field << " saying '" << e.says << "'";
  }
}

// Issue 18 item 3: ~20,000 levels inside an unknown field made protobuf's unknown-field skipping recurse
// until the stack overflowed (exit 139 in config check, train and export).
TEST(PipelineConfig, DeepNestingInAnUnknownFieldIsAnErrorNamingFileLineAndLimit) {
  std::string text = "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 2 } }\n"
                     "train_config {\n  tf_only_field {";
  for (int i = 0; i < 20000; ++i) text += " a {";
  for (int i = 0; i < 20001; ++i) text += " }";
  text += "\n}\n";
  try {
    ParsePipelineConfig(text, "deep.config");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("deep.config: line 3: nesting deeper than 100 levels"), std::string::npos)
        << e.what();
  }
  // 100 levels are still read (and the unknown field only warned about).
  std::string ok = "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 2 } }\n"
                   "train_config { tf_only_field {";
  for (int i = 0; i < 98; ++i) ok += " a {";
  for (int i = 0; i < 99; ++i) ok += " }";
  ok += " }\n";
  const PipelineConfig config = ParsePipelineConfig(ok, "ok.config");
  EXPECT_NE(FindWarning(config, "train_config.tf_only_field"), nullptr);
}

}  // namespace
}  // namespace segtune

