// Detection configs: a real-layout TF faster_rcnn config mapped onto torchvision's Faster R-CNN (what is
// honoured, what is warned about), the backbone/size rules, segtune's native spellings, config init.
#include "segtune/config/detection_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "segtune/config/config_init.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune {
namespace {

const ConfigWarning* WarningAbout(const PipelineConfig& config, const std::string& field, const std::string& says = "") {
  for (const auto& w : config.warnings) {
    if (w.field == field && w.message.find(says) != std::string::npos) return &w;
  }
  return nullptr;
}

using testing::LineOf;

TEST(DetectionConfig, TfFasterRcnnResnet50CocoConfigMapsToTorchvisionFasterRcnn) {
  testing::TempDir dir;
  std::string text = ReadFile(testing::SourcePath("tests/config/testdata/faster_rcnn_resnet50_coco.config"));
  text = std::regex_replace(text, std::regex("PATH_TO_BE_CONFIGURED"), "data");
  WriteFileAtomic(dir / "pipeline.config", text);
  const PipelineConfig config = LoadPipelineConfig(dir / "pipeline.config");

  ASSERT_TRUE(IsDetectionConfig(config));
  const DetectionConfig d = DetectionConfigFromPipeline(config);
  EXPECT_EQ(d.model_name, "fasterrcnn_resnet50_fpn");
  EXPECT_EQ(d.options.num_classes, 91);  // 90 TF classes + background.
  EXPECT_EQ(d.options.min_size, 600);    // keep_aspect_ratio_resizer min/max_dimension.
  EXPECT_EQ(d.options.max_size, 1024);
  EXPECT_EQ(d.options.rpn.post_nms_top_n_train, 300);  // first_stage_max_proposals.
  EXPECT_EQ(d.options.rpn.post_nms_top_n_test, 300);
  EXPECT_DOUBLE_EQ(d.options.rpn.nms_thresh, 0.7);  // first_stage_nms_iou_threshold.
  EXPECT_DOUBLE_EQ(d.options.rpn.score_thresh, 0.0);
  EXPECT_DOUBLE_EQ(d.options.box.nms_thresh, 0.6);  // batch_non_max_suppression.iou_threshold.
  EXPECT_DOUBLE_EQ(d.options.box.score_thresh, 0.0);
  EXPECT_EQ(d.options.box.detections_per_img, 300);  // max_total_detections.
  // torchvision's defaults where TF says nothing.
  EXPECT_EQ(d.options.rpn.pre_nms_top_n_train, 2000);
  EXPECT_EQ(d.options.box.batch_size_per_image, 512);
  // Loss weights are applied to the matching torchvision loss terms.
  EXPECT_FLOAT_EQ(config.proto.model().detection().rpn_box_loss_weight(), 2.0f);
  EXPECT_FLOAT_EQ(config.proto.model().detection().box_loss_weight(), 2.0f);
  EXPECT_FLOAT_EQ(config.proto.model().detection().classifier_loss_weight(), 1.0f);

  const ConfigWarning* mapping = WarningAbout(config, "model.faster_rcnn", "mapped to");
  ASSERT_NE(mapping, nullptr);
  EXPECT_NE(mapping->message.find("fasterrcnn_resnet50_fpn with num_classes 91"), std::string::npos) << mapping->message;
  EXPECT_NE(WarningAbout(config, "model.faster_rcnn", "max_detections_per_class 100 is not applied"), nullptr);

  // TF fields with no torchvision counterpart: one warning each, at their line.
  for (const char* field : {"model.faster_rcnn.feature_extractor.first_stage_features_stride",
                            "model.faster_rcnn.first_stage_anchor_generator",
                            "model.faster_rcnn.first_stage_box_predictor_conv_hyperparams",
                            "model.faster_rcnn.initial_crop_size", "model.faster_rcnn.maxpool_kernel_size",
                            "model.faster_rcnn.second_stage_box_predictor.mask_rcnn_box_predictor.fc_hyperparams",
                            "train_config.optimizer.use_moving_average", "train_config.from_detection_checkpoint",
                            "eval_config.max_evals", "eval_input_reader.num_readers"}) {
    const ConfigWarning* w = WarningAbout(config, field);
    ASSERT_NE(w, nullptr) << "no warning for " << field;
    const std::string last = std::string(field).substr(std::string(field).rfind('.') + 1);
    EXPECT_EQ(w->line, LineOf(text, last)) << field;
  }
  // Honoured: no warning for the mapped fields, the flip, clipping, eval's shuffle and num_examples.
  for (const char* honoured : {"model.faster_rcnn.first_stage_max_proposals", "model.faster_rcnn.second_stage_post_processing",
                               "train_config.data_augmentation_options.random_horizontal_flip",
                               "train_config.gradient_clipping_by_norm", "eval_input_reader.shuffle",
                               "eval_config.num_examples"}) {
    EXPECT_EQ(WarningAbout(config, honoured), nullptr) << honoured;
  }
  EXPECT_NE(WarningAbout(config, "train_config.fine_tune_checkpoint", "TensorFlow checkpoint"), nullptr);
  EXPECT_EQ(config.proto.train_config().batch_size(), 1u);
  EXPECT_EQ(config.proto.train_config().num_steps(), 200000u);
  EXPECT_FLOAT_EQ(config.proto.train_config().gradient_clipping_by_norm(), 10.0f);
}

DetectionConfig MapTf(const std::string& type, const std::string& extra, PipelineConfig* out = nullptr) {
  const PipelineConfig config = ParsePipelineConfig(
      "model { faster_rcnn { num_classes: 3 feature_extractor { type: '" + type + "' } " + extra + " } }", "x.config");
  if (out) *out = config;
  return DetectionConfigFromPipeline(config);
}

TEST(DetectionConfig, PicksTheTorchvisionModelFromBackboneMasksAndInputSize) {
  EXPECT_EQ(MapTf("faster_rcnn_resnet50_keras", "").model_name, "fasterrcnn_resnet50_fpn");
  EXPECT_EQ(MapTf("faster_rcnn_resnet50",
                  "second_stage_box_predictor { mask_rcnn_box_predictor { predict_instance_masks: true } }")
                .model_name,
            "maskrcnn_resnet50_fpn");
  const std::string small = "image_resizer { keep_aspect_ratio_resizer { min_dimension: 320 max_dimension: 640 } }";
  const std::string large = "image_resizer { keep_aspect_ratio_resizer { min_dimension: 600 max_dimension: 1024 } }";
  EXPECT_EQ(MapTf("faster_rcnn_mobilenet_v3_large", small).model_name, "fasterrcnn_mobilenet_v3_large_320_fpn");
  EXPECT_EQ(MapTf("faster_rcnn_mobilenet_v3_large", large).model_name, "fasterrcnn_mobilenet_v3_large_fpn");
  PipelineConfig config;
  EXPECT_EQ(MapTf("faster_rcnn_resnet101_keras", "", &config).model_name, "fasterrcnn_resnet50_fpn");
  EXPECT_NE(WarningAbout(config, "model.faster_rcnn", "no Faster R-CNN with this backbone"), nullptr);
  const DetectionConfig fixed = MapTf("faster_rcnn_resnet50", "image_resizer { fixed_shape_resizer { height: 480 width: 640 } }",
                                      &config);
  EXPECT_EQ(fixed.options.min_size, 480);
  EXPECT_EQ(fixed.options.max_size, 640);
  EXPECT_NE(WarningAbout(config, "model.faster_rcnn", "fixed_shape_resizer"), nullptr);
  try {
    MapTf("faster_rcnn_nas", "");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("model { detection {"), std::string::npos) << e.what();
  }
}

TEST(DetectionConfig, NativeSpellingsUseTorchvisionDefaultsAndOverrides) {
  const PipelineConfig native = ParsePipelineConfig(
      "model { detection { architecture: 'fasterrcnn_mobilenet_v3_large_320_fpn' num_classes: 3 box_score_thresh: 0.3 } }",
      "n.config");
  EXPECT_TRUE(native.warnings.empty()) << native.warnings[0].ToString("n.config");
  const DetectionConfig d = DetectionConfigFromPipeline(native);
  EXPECT_EQ(d.model_name, "fasterrcnn_mobilenet_v3_large_320_fpn");
  EXPECT_EQ(d.options.num_classes, 3);
  EXPECT_EQ(d.options.min_size, 320);  // torchvision's 320 variant.
  EXPECT_EQ(d.options.max_size, 640);
  EXPECT_EQ(d.options.rpn.post_nms_top_n_test, 150);
  EXPECT_DOUBLE_EQ(d.options.box.score_thresh, 0.3);

  const PipelineConfig semantic_fields = ParsePipelineConfig(
      "model { detection { architecture: 'fasterrcnn_resnet50_fpn' num_classes: 3 } }\n"
      "train_config { class_weights: [1, 2, 3] freeze_batchnorm: true\n"
      "  data_augmentation_options { random_scale_crop { } } }\n",
      "f.config");
  for (const char* field : {"train_config.class_weights", "train_config.freeze_batchnorm",
                            "train_config.data_augmentation_options.random_scale_crop"}) {
    const ConfigWarning* w = WarningAbout(semantic_fields, field, "ignored");
    ASSERT_NE(w, nullptr) << field;
    EXPECT_EQ(w->line, std::string(field) == "train_config.data_augmentation_options.random_scale_crop" ? 3 : 2) << field;
  }

  const PipelineConfig as_segmentation = ParsePipelineConfig(
      "model { segmentation { architecture: 'maskrcnn_resnet50_fpn' num_classes: 4 } }", "s.config");
  ASSERT_TRUE(IsDetectionConfig(as_segmentation));
  EXPECT_EQ(DetectionConfigFromPipeline(as_segmentation).model_name, "maskrcnn_resnet50_fpn");

  const PipelineConfig semantic = ParsePipelineConfig(
      "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3 } }", "sem.config");
  EXPECT_FALSE(IsDetectionConfig(semantic));
  EXPECT_THROW(DetectionConfigFromPipeline(semantic), UsageError);
  EXPECT_THROW(DetectionConfigFromPipeline(ParsePipelineConfig(
                   "model { detection { architecture: 'fasterrcnn_resnet50_fpn' num_classes: 1 } }", "one.config")),
               UsageError);
}

TEST(DetectionConfig, ConfigInitInputSizeMakesImagesFitThatSquare) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  ConfigInitOptions o;
  o.model = "fasterrcnn_resnet50_fpn";
  o.label_map = dir / "label_map.pbtxt";
  o.train = "train.record";
  o.input_size = 96;
  o.output = dir / "pipeline.config";
  const DetectionConfig d = DetectionConfigFromPipeline(ParsePipelineConfig(MakePipelineConfigText(o), "p.config"));
  EXPECT_EQ(d.options.min_size, 96);
  EXPECT_EQ(d.options.max_size, 96);
}

TEST(DetectionConfig, ConfigInitNamesDetectionModelsAmongTheKnownOnes) {
  ConfigInitOptions o;
  o.model = "fasterrcnn_resnet18";
  o.label_map = "label_map.pbtxt";
  o.train = "train.record";
  try {
    MakePipelineConfigText(o);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("fasterrcnn_resnet50_fpn"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lraspp_mobilenet_v3_large"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace segtune
