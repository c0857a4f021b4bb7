// Detection configs that need the engine: config init then check (the fine-tune checkpoint's fit, masks
// in the records), and a TF num_classes larger than the label map that trains. The torch-free mapping
// and init tests are in tests/config/detection_config_test.cpp.
#include "segtune/engine/config_check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/config/config_init.h"
#include "segtune/config/detection_config.h"
#include "segtune/engine/trainer.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::LineOf;

TEST(DetectionConfig, ConfigInitWritesADetectionConfigThatLoadsCleanAndChecks) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\nitem { id: 2 name: 'can' }\n");
  {
    TFRecordWriter writer(dir / "train-00000-of-00001");  // Check reads the first record's framing.
    writer.Write("record");
    writer.Close();
  }
  ConfigInitOptions o;
  o.model = "fasterrcnn_mobilenet_v3_large_320_fpn";
  o.label_map = dir / "label_map.pbtxt";
  o.train = (dir / "train-*").string();
  o.val = (dir / "train-*").string();
  o.output = dir / "pipeline.config";
  WritePipelineConfig(o);
  const PipelineConfig config = LoadPipelineConfig(o.output);
  EXPECT_TRUE(config.warnings.empty()) << config.warnings[0].ToString(config.path);
  const DetectionConfig d = DetectionConfigFromPipeline(config);
  EXPECT_EQ(d.model_name, o.model);
  EXPECT_EQ(d.options.num_classes, 3);
  EXPECT_EQ(d.options.min_size, 320);  // torchvision's sizes without --input-size.
  EXPECT_EQ(d.options.max_size, 640);
  const ConfigCheckReport report = CheckPipelineConfig(o.output);
  EXPECT_TRUE(report.ok()) << report.errors[0];
  bool named = false;
  for (const auto& n : report.notes) named = named || n.find("detection model " + o.model) != std::string::npos;
  EXPECT_TRUE(named);

  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 5 name: 'bottle' }\n");
  const ConfigCheckReport mismatch = CheckPipelineConfig(o.output);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.errors[0].find("num_classes should be 6"), std::string::npos) << mismatch.errors[0];
}

// One record with one box, and with its instance mask PNG or without.
void WriteOneBoxRecord(const std::filesystem::path& path, bool with_mask) {
  ObjectDetectionExample ex;
  ex.height = ex.width = 2;
  ex.boxes.push_back({0.f, 0.f, 1.f, 1.f});
  ex.class_label.push_back(1);
  ex.class_text.push_back("bottle");
  if (with_mask) {
    // A 2x2 grayscale PNG; the check counts masks, it does not decode them.
    ex.has_instance_masks = true;
    ex.instance_masks.push_back(std::string("\x89PNG\r\n\x1a\n", 8));
  }
  TFRecordWriter writer(path);
  writer.Write(ToExample(ex).SerializeAsString());
  writer.Close();
}

TEST(DetectionConfig, ConfigCheckReportsMaskRcnnEvalRecordsWithoutMasks) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  WriteOneBoxRecord(dir / "train.record", /*with_mask=*/true);
  WriteOneBoxRecord(dir / "val.record", /*with_mask=*/false);
  ConfigInitOptions o;
  o.model = "maskrcnn_resnet50_fpn";
  o.label_map = dir / "label_map.pbtxt";
  o.train = (dir / "train.record").string();
  o.val = (dir / "val.record").string();
  o.output = dir / "pipeline.config";
  WritePipelineConfig(o);
  const ConfigCheckReport report = CheckPipelineConfig(o.output);
  ASSERT_EQ(report.errors.size(), 1u) << (report.errors.empty() ? "" : report.errors[0]);
  EXPECT_NE(report.errors[0].find("eval_input_reader"), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[0].find("val.record: record 0"), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[0].find("--include-masks"), std::string::npos) << report.errors[0];

  o.model = "fasterrcnn_resnet50_fpn";  // Boxes only: the same records are fine.
  o.overwrite = true;                   // Replaces the Mask R-CNN config just written.
  WritePipelineConfig(o);
  const ConfigCheckReport boxes = CheckPipelineConfig(o.output);
  EXPECT_TRUE(boxes.ok()) << boxes.errors[0];
}

// Issue 18 item 13: the TF OD API's own faster_rcnn_resnet50_coco.config says num_classes: 90 next to a
// one-item label map; TF trains it (a 90-class head, one class used). This is its MobileNet
// counterpart at 64 pixels, so one training step stays fast.
TEST(DetectionConfig, TfNumClasses90WithAOneItemLabelMapIsAWarningAndTrainsA91ClassHead) {
  testing::TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  {
    TFRecordWriter writer(dir / "train.record");
    for (int i = 0; i < 2; ++i) {
      cv::Mat bgr(64, 64, CV_8UC3, cv::Scalar(120, 120, 120));
      cv::rectangle(bgr, cv::Rect(10 + 8 * i, 12, 30, 28), cv::Scalar(40, 40, 220), cv::FILLED);
      std::vector<uchar> png;
      cv::imencode(".png", bgr, png);
      ObjectDetectionExample ex;
      ex.encoded.assign(png.begin(), png.end());
      ex.format = "png";
      ex.height = ex.width = 64;
      ex.boxes.push_back({12.f / 64, (10.f + 8 * i) / 64, 40.f / 64, (40.f + 8 * i) / 64});
      ex.class_label.push_back(1);
      ex.class_text.push_back("bottle");
      writer.Write(ToExample(ex).SerializeAsString());
    }
    writer.Close();
  }
  const std::string text =
      "model { faster_rcnn {\n"
      "  num_classes: 90\n"
      "  image_resizer { keep_aspect_ratio_resizer { min_dimension: 64 max_dimension: 64 } }\n"
      "  feature_extractor { type: 'faster_rcnn_mobilenet_v3_large' }\n"
      "} }\n"
      "train_config { batch_size: 2 num_steps: 1\n"
      "  optimizer { momentum_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.001 } } } }\n"
      "}\n"
      "train_input_reader {\n"
      "  label_map_path: 'label_map.pbtxt'\n"
      "  tf_record_input_reader { input_path: 'train.record' }\n"
      "}\n";
  WriteFileAtomic(dir / "pipeline.config", text);

  const ConfigCheckReport report = CheckPipelineConfig(dir / "pipeline.config");
  EXPECT_TRUE(report.ok()) << report.errors[0];
  std::string warning;
  for (const auto& w : report.warnings) {
    if (w.find("label_map_path") != std::string::npos) warning = w;
  }
  const std::string line = std::to_string(LineOf(text, "label_map_path"));
  EXPECT_NE(warning.find((dir / "pipeline.config").string() + ":" + line + ": train_input_reader.label_map_path: "),
            std::string::npos) << warning;
  EXPECT_NE(warning.find("91-class head (TF's num_classes 90 + background) of which only classes up to 1 appear"),
            std::string::npos) << warning;
  EXPECT_NE(warning.find("set num_classes to 1"), std::string::npos) << warning;

  TrainOptions o;
  o.pipeline_config = dir / "pipeline.config";
  o.train_dir = dir / "train";
  const TrainResult r = Train(o);
  EXPECT_EQ(r.last_step, 1);
  ASSERT_EQ(r.losses.size(), 1u);
  EXPECT_TRUE(std::isfinite(r.losses[0]));
  const NamedTensors ckpt = LoadWeights(r.last_checkpoint);
  EXPECT_EQ(ckpt.metadata.at("segtune.num_classes"), "91");
  const torch::Tensor* cls = nullptr;  // The box predictor's class logits: one row per class.
  for (const auto& [name, tensor] : ckpt.items) {
    if (name.find("cls_score.weight") != std::string::npos) cls = &tensor;
  }
  ASSERT_NE(cls, nullptr);
  EXPECT_EQ(cls->size(0), 91);
}

}  // namespace
}  // namespace segtune
