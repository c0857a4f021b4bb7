// `segtune eval` for detections (evaluation/detection_eval.h): ground truth against itself, a
// hand-computed case, images without predictions, and the CLI on records.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/evaluation/detection_eval.h"
#include "test_util.h"

namespace segtune {
namespace {

constexpr int kH = 60, kW = 80;

// A 0/1 PNG of the image size with the pixel box [x1, x2) x [y1, y2) set.
std::string BoxMaskPng(int x1, int y1, int x2, int y2) {
  std::vector<uint8_t> pixels(kH * kW, 0);
  for (int y = y1; y < y2; ++y) {
    for (int x = x1; x < x2; ++x) pixels[y * kW + x] = 1;
  }
  return EncodeGrayPng(pixels.data(), kH, kW);
}

struct Box {
  int x1, y1, x2, y2;
  int64_t label;
  float score;
};

NormalizedBox Normalized(const Box& b) {
  return {static_cast<float>(b.y1) / kH, static_cast<float>(b.x1) / kW, static_cast<float>(b.y2) / kH,
          static_cast<float>(b.x2) / kW};
}

// A ground-truth record (boxes + masks, no area) with detections `dets` (masks when with_masks).
tensorflow::Example Record(const std::string& id, const std::vector<Box>& gt, const std::vector<Box>& dets,
                           bool with_masks) {
  ObjectDetectionExample od;
  od.source_id = id;
  od.height = kH;
  od.width = kW;
  od.has_instance_masks = true;
  for (const Box& b : gt) {
    od.boxes.push_back(Normalized(b));
    od.class_label.push_back(b.label);
    od.is_crowd.push_back(0);
    od.instance_masks.push_back(BoxMaskPng(b.x1, b.y1, b.x2, b.y2));
  }
  od.has_detections = true;
  std::vector<std::string> masks;
  for (const Box& d : dets) {
    od.detection_boxes.push_back(Normalized(d));
    od.detection_scores.push_back(d.score);
    od.detection_labels.push_back(d.label);
    masks.push_back(BoxMaskPng(d.x1, d.y1, d.x2, d.y2));
  }
  tensorflow::Example e = ToExample(od);
  if (with_masks) SetBytesList(&e, "image/detection/mask", masks);
  return e;
}

DetectionEvalResult EvaluateOne(const std::vector<Box>& gt, const std::vector<Box>& dets, bool with_masks = true) {
  DetectionEvalBuilder builder;
  const tensorflow::Example e = Record("7", gt, dets, with_masks);
  builder.Add(e, e, "test");
  return builder.Evaluate({"background", "cat", "dog"}, 1);
}

TEST(DetectionEval, GroundTruthAgainstItselfGivesApOne) {
  const std::vector<Box> gt = {{5, 5, 30, 40, 1, 1.0f}, {40, 10, 75, 55, 2, 1.0f}, {10, 42, 25, 58, 1, 1.0f}};
  const DetectionEvalResult r = EvaluateOne(gt, gt);
  EXPECT_DOUBLE_EQ(r.bbox.stats[0], 1.0);
  EXPECT_DOUBLE_EQ(r.bbox.stats[1], 1.0);
  ASSERT_TRUE(r.segm.has_value());
  EXPECT_DOUBLE_EQ(r.segm->stats[0], 1.0);
  EXPECT_EQ(r.bbox.cat_names, (std::vector<std::string>{"cat", "dog"}));
}

// Two cat boxes; one found exactly (0.9), one false positive far away (0.8), the other cat missed.
// Sorted by score: TP then FP, recall 0.5 at precision 1, so the interpolated precision is 1 at the
// 51 recall thresholds 0, 0.01, ..., 0.50 and 0 at the other 50: AP = 51/101 at every IoU threshold.
// Recall (AR@100) = 0.5.
TEST(DetectionEval, HandComputedOneHitOneMissOneFalsePositive) {
  const std::vector<Box> gt = {{5, 5, 30, 40, 1, 1.0f}, {40, 10, 75, 55, 1, 1.0f}};
  const std::vector<Box> dets = {{5, 5, 30, 40, 1, 0.9f}, {0, 45, 8, 58, 1, 0.8f}};
  const DetectionEvalResult r = EvaluateOne(gt, dets);
  EXPECT_NEAR(r.bbox.stats[0], 51.0 / 101.0, 1e-12);
  EXPECT_NEAR(r.bbox.stats[1], 51.0 / 101.0, 1e-12);
  EXPECT_NEAR(r.bbox.stats[8], 0.5, 1e-12);
  ASSERT_TRUE(r.segm.has_value());
  EXPECT_NEAR(r.segm->stats[0], 51.0 / 101.0, 1e-12);
}

// gt [0,50) x [0,10) (area 500), the only detection [10,60) x [0,10): intersection 400, union 600,
// IoU 2/3, a hit at the thresholds 0.50, 0.55, 0.60, 0.65 only: AP = 4/10, AP50 = 1, AP75 = 0.
TEST(DetectionEval, HandComputedIouThresholds) {
  const std::vector<Box> gt = {{0, 0, 50, 10, 1, 1.0f}};
  const std::vector<Box> dets = {{10, 0, 60, 10, 1, 0.5f}};
  const DetectionEvalResult r = EvaluateOne(gt, dets, /*with_masks=*/false);
  EXPECT_NEAR(r.bbox.stats[0], 0.4, 1e-12);
  EXPECT_NEAR(r.bbox.stats[1], 1.0, 1e-12);
  EXPECT_NEAR(r.bbox.stats[2], 0.0, 1e-12);
  EXPECT_FALSE(r.segm.has_value());  // No predicted masks.
}

void WriteRecords(const std::filesystem::path& path, const std::vector<tensorflow::Example>& examples) {
  TFRecordWriter writer(path);
  for (const auto& e : examples) writer.Write(e.SerializeAsString());
  writer.Close();
}

// Ground truth for two images, predictions (perfect) for one: the other image's objects are misses.
TEST(DetectionEval, GroundTruthImageWithoutPredictionsCountsAsMissed) {
  testing::TempDir dir;
  const std::vector<Box> a = {{5, 5, 30, 40, 1, 1.0f}}, b = {{40, 10, 75, 55, 1, 1.0f}};
  WriteRecords(dir / "gt.record", {Record("1", a, {}, true), Record("2", b, {}, true)});
  WriteRecords(dir / "pred.record", {Record("1", a, a, true)});
  const DetectionEvalResult r = EvaluateDetectionRecords((dir / "pred.record").string(), (dir / "gt.record").string(), {});
  EXPECT_EQ(r.matched_by, "image/source_id");
  EXPECT_EQ(r.images, 2);
  EXPECT_NEAR(r.bbox.stats[8], 0.5, 1e-12);  // AR@100: one of two objects found.
  EXPECT_NEAR(r.bbox.stats[0], 51.0 / 101.0, 1e-12);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("'2'"), std::string::npos);
}

TEST(DetectionEval, CliPrintsTheCocoSummaryAndWritesMetrics) {
  testing::TempDir dir;
  const std::vector<Box> gt = {{5, 5, 30, 40, 1, 1.0f}, {40, 10, 75, 55, 2, 1.0f}};
  WriteRecords(dir / "pred.record", {Record("3", gt, gt, true)});
  const auto run = testing::RunSegtune("eval --predictions '" + (dir / "pred.record").string() + "' -o '" +
                                       (dir / "metrics.json").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000"),
            std::string::npos)
      << run.output;
  const nlohmann::json metrics = nlohmann::json::parse(ReadFile(dir / "metrics.json"));
  EXPECT_DOUBLE_EQ(metrics["bbox"]["stats_list"][0].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(metrics["segm"]["stats_list"][0].get<double>(), 1.0);
  EXPECT_EQ(metrics["images"], 1);
  // The report's gallery: the ground truth found exactly, drawn once.
  ASSERT_EQ(metrics["image_scores"].size(), 1u);
  EXPECT_EQ(metrics["image_scores"][0]["id"], "3");
  EXPECT_EQ(metrics["image_scores"][0]["f1"], 1.0);
  EXPECT_EQ(metrics["image_scores"][0]["true_positives"], 2.0);
  ASSERT_EQ(metrics["gallery"].size(), 1u);
  EXPECT_EQ(metrics["gallery_ranked_by"], "f1");
  EXPECT_EQ(metrics["gallery"][0]["thumbnail"].get<std::string>().rfind("data:image/jpeg;base64,", 0), 0u);
}

}  // namespace
}  // namespace segtune
