// `segtune eval`'s library back-end (inference/infer_eval.h) on prediction records: it returns what it
// measured (semantic or detection), writes metrics.json, and prints nothing; FormatEvalCommandResult
// gives the text the CLI prints.
#include "segtune/inference/torch/infer_eval.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

void WriteRecords(const std::filesystem::path& path, const std::vector<tensorflow::Example>& examples) {
  TFRecordWriter writer(path);
  for (const auto& e : examples) writer.Write(e.SerializeAsString());
  writer.Close();
}

// A 2x2 semantic ground-truth record.
tensorflow::Example SemanticGroundTruth(const std::string& id, const std::vector<uint8_t>& classes) {
  tensorflow::Example e;
  SetBytes(&e, "image/source_id", id);
  SetInt64(&e, "image/height", 2);
  SetInt64(&e, "image/width", 2);
  SetBytes(&e, "image/segmentation/class/encoded", EncodeGrayPng(classes.data(), 2, 2));
  SetBytes(&e, "image/segmentation/class/format", "png");
  return e;
}

// A 2x2 semantic prediction record as `segtune infer` writes it (2 classes).
tensorflow::Example SemanticPrediction(const std::string& id, const std::vector<uint8_t>& classes) {
  tensorflow::Example e;
  SetBytes(&e, "image/source_id", id);
  SetBytes(&e, "image/segmentation/class/predicted", EncodeGrayPng(classes.data(), 2, 2));
  SetFloatList(&e, "image/segmentation/class/fraction", {0.f, 0.f});
  return e;
}

TEST(EvalOptions, SemanticPredictionsReturnTheSemanticResult) {
  testing::TempDir dir;
  WriteRecords(dir / "gt.record", {SemanticGroundTruth("1", {0, 1, 1, 1})});
  // Image 9 has no ground truth: a warning in the result, not an error.
  WriteRecords(dir / "pred.record", {SemanticPrediction("1", {0, 1, 0, 1}), SemanticPrediction("9", {0, 0, 0, 0})});
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  EvalOptions command;
  command.predictions = (dir / "pred.record").string();
  command.groundtruth = (dir / "gt.record").string();
  command.label_map = (dir / "label_map.pbtxt").string();
  command.output = dir / "metrics.json";

  const EvalCommandResult result = RunEvalCommand(command);
  ASSERT_TRUE(result.semantic.has_value());
  EXPECT_FALSE(result.detection.has_value());
  EXPECT_EQ(result.semantic->images, 1);
  EXPECT_EQ(result.semantic->matched_by, "image/source_id");
  // Confusion [[1, 0], [1, 2]]: IoU 1/2 and 2/3.
  EXPECT_DOUBLE_EQ(result.semantic->metrics.mean_iou, (1.0 / 2 + 2.0 / 3) / 2);
  EXPECT_DOUBLE_EQ(result.semantic->metrics.pixel_accuracy, 3.0 / 4);
  EXPECT_EQ(result.class_names, (std::vector<std::string>{"background", "bottle"}));
  ASSERT_EQ(result.warnings().size(), 1u);
  EXPECT_NE(result.warnings()[0].find("'9'"), std::string::npos) << result.warnings()[0];
  EXPECT_EQ(result.output, dir / "metrics.json");
  const nlohmann::json metrics = nlohmann::json::parse(ReadFile(dir / "metrics.json"));
  EXPECT_DOUBLE_EQ(metrics["mean_iou"].get<double>(), result.semantic->metrics.mean_iou);

  const std::string text = FormatEvalCommandResult(result);
  EXPECT_EQ(text.rfind("1 images, matched by image/source_id\n", 0), 0u) << text;
  EXPECT_NE(text.find("bottle"), std::string::npos) << text;
  EXPECT_EQ(text.find("wrote"), std::string::npos) << "the CLI says where outputs went: " << text;
}

TEST(EvalOptions, DetectionPredictionsReturnTheDetectionResult) {
  testing::TempDir dir;
  ObjectDetectionExample od;  // One object, found exactly: AP 1.
  od.source_id = "3";
  od.height = 40;
  od.width = 50;
  od.boxes = {{0.1f, 0.2f, 0.6f, 0.8f}};
  od.class_label = {1};
  od.is_crowd = {0};
  od.has_detections = true;
  od.detection_boxes = od.boxes;
  od.detection_scores = {0.9f};
  od.detection_labels = {1};
  WriteRecords(dir / "pred.record", {ToExample(od)});
  EvalOptions command;
  command.predictions = (dir / "pred.record").string();
  command.output = dir / "metrics.json";

  const EvalCommandResult result = RunEvalCommand(command);
  ASSERT_TRUE(result.detection.has_value());
  EXPECT_FALSE(result.semantic.has_value());
  EXPECT_EQ(result.detection->images, 1);
  EXPECT_EQ(result.detection->matched_by, "same record");
  EXPECT_DOUBLE_EQ(result.detection->bbox.stats[0], 1.0);
  EXPECT_TRUE(result.warnings().empty());
  const nlohmann::json metrics = nlohmann::json::parse(ReadFile(dir / "metrics.json"));
  EXPECT_DOUBLE_EQ(metrics["bbox"]["stats_list"][0].get<double>(), 1.0);

  const std::string text = FormatEvalCommandResult(result);
  EXPECT_EQ(text.rfind("1 images, matched by same record\n", 0), 0u) << text;
  EXPECT_NE(text.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000"),
            std::string::npos)
      << text;
}

TEST(EvalOptions, NeitherPredictionsNorModelIsAUsageError) {
  testing::TempDir dir;
  EvalOptions command;
  command.output = dir / "metrics.json";
  EXPECT_THROW(RunEvalCommand(command), UsageError);
  EXPECT_FALSE(std::filesystem::exists(dir / "metrics.json"));
}

}  // namespace
}  // namespace segtune
