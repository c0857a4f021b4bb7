// Semantic segmentation metrics: hand-computed confusion matrices and torchvision's reference formula.
#include "segtune/evaluation/semantic_metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune {
namespace {

SemanticMetrics Compute(int num_classes, const std::vector<uint8_t>& gt, const std::vector<uint8_t>& pred) {
  SemanticConfusion confusion(num_classes);
  confusion.Add(gt.data(), pred.data(), gt.size());
  return ComputeSemanticMetrics(confusion);
}

// gt:   0 0 0 1 1 1 255 255 2 2
// pred: 0 0 1 1 1 2  0   1  2 0
// Matrix (rows gt): [2 1 0; 0 2 1; 1 0 1], 2 ignored pixels.
// IoU = 2/4, 2/4, 1/3; pixel acc 5/8; class acc 2/3, 2/3, 1/2; FW = 3/8*.5 + 3/8*.5 + 2/8*(1/3).
TEST(SemanticMetrics, MatchesHandComputedMatrixWithIgnoredPixels) {
  const SemanticMetrics m = Compute(3, {0, 0, 0, 1, 1, 1, 255, 255, 2, 2}, {0, 0, 1, 1, 1, 2, 0, 1, 2, 0});
  EXPECT_EQ(m.confusion, (std::vector<int64_t>{2, 1, 0, 0, 2, 1, 1, 0, 1}));
  EXPECT_EQ(m.ignored_pixels, 2);
  EXPECT_EQ(m.counted_pixels, 8);
  EXPECT_DOUBLE_EQ(m.per_class[0].iou, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[1].iou, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[2].iou, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.mean_iou, (0.5 + 0.5 + 1.0 / 3) / 3);
  EXPECT_DOUBLE_EQ(m.pixel_accuracy, 5.0 / 8);
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy, (2.0 / 3 + 2.0 / 3 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(m.frequency_weighted_iou, 3.0 / 8 * 0.5 + 3.0 / 8 * 0.5 + 2.0 / 8 / 3);
  EXPECT_EQ(m.present_classes, 3);
}

// Class 2 has no ground truth but is predicted once: reported absent and left out of the means.
// Matrix: [1 0 1; 0 2 0; 0 0 0] -> IoU0 = 1/2, IoU1 = 1, mIoU = 0.75 (not (0.5+1+0)/3).
TEST(SemanticMetrics, ClassWithoutGroundTruthIsAbsentNotZero) {
  const SemanticMetrics m = Compute(3, {0, 0, 1, 1}, {0, 2, 1, 1});
  EXPECT_FALSE(m.per_class[2].present);
  EXPECT_EQ(m.per_class[2].predicted_pixels, 1);
  EXPECT_EQ(m.present_classes, 2);
  EXPECT_DOUBLE_EQ(m.mean_iou, 0.75);
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy, (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(m.pixel_accuracy, 0.75);
}

TEST(SemanticMetrics, UnknownGroundTruthLabelsAreSkippedAndCounted) {
  const SemanticMetrics m = Compute(2, {0, 7, 1, 255}, {0, 1, 1, 0});
  EXPECT_EQ(m.unknown_label_pixels, 1);
  EXPECT_EQ(m.ignored_pixels, 1);
  EXPECT_EQ(m.counted_pixels, 2);
  EXPECT_DOUBLE_EQ(m.mean_iou, 1.0);
}

TEST(SemanticMetrics, PredictionOutsideClassesThrowsNamingPixel) {
  SemanticConfusion confusion(2);
  const std::vector<uint8_t> gt = {0, 1, 1}, pred = {0, 1, 5};
  try {
    confusion.Add(gt.data(), pred.data(), 3);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pixel 2"), std::string::npos) << e.what();
  }
}

TEST(SemanticMetrics, MergedPartsEqualOneAccumulation) {
  const std::vector<uint8_t> gt = {0, 1, 2, 2, 1, 0, 255, 1}, pred = {0, 2, 2, 1, 1, 0, 0, 1};
  SemanticConfusion whole(3), a(3), b(3);
  whole.Add(gt.data(), pred.data(), gt.size());
  a.Add(gt.data(), pred.data(), 3);
  b.Add(gt.data() + 3, pred.data() + 3, gt.size() - 3);
  a.Merge(b);
  EXPECT_EQ(ComputeSemanticMetrics(a).confusion, ComputeSemanticMetrics(whole).confusion);
  EXPECT_EQ(a.ignored_pixels(), 1);
  EXPECT_THROW(a.Merge(SemanticConfusion(4)), Error);
}

TEST(SemanticMetrics, NoCountedPixelsGivesZeroMeansAndNoPresentClass) {
  const SemanticMetrics m = Compute(2, {255, 255}, {0, 1});
  EXPECT_EQ(m.present_classes, 0);
  EXPECT_EQ(m.mean_iou, 0);
}

TEST(SemanticMetrics, TableAndJsonReportAbsentClasses) {
  const SemanticMetrics m = Compute(3, {0, 0, 1, 1}, {0, 2, 1, 1});
  const std::string table = FormatSemanticTable(m, {"background", "bottle"});
  EXPECT_NE(table.find("bottle"), std::string::npos) << table;
  EXPECT_NE(table.find("absent"), std::string::npos) << table;
  EXPECT_NE(table.find("class 2"), std::string::npos) << table;
  const auto j = nlohmann::json::parse(SemanticMetricsToJson(m, {"background", "bottle", "can"}));
  EXPECT_DOUBLE_EQ(j["mean_iou"].get<double>(), 0.75);
  EXPECT_TRUE(j["per_class"][2]["iou"].is_null());
  EXPECT_EQ(j["per_class"][2]["name"], "can");
  EXPECT_EQ(j["confusion_matrix"][0][2], 1);
}

// With every class present, our numbers equal torchvision's reference ConfusionMatrix.compute().
TEST(SemanticMetrics, MatchesTorchvisionReferenceOnRandomMaps) {
  testing::TempDir dir;
  const int k = 5;
  std::mt19937 rng(7);
  std::vector<uint8_t> gt(20000), pred(20000);
  for (size_t i = 0; i < gt.size(); ++i) {
    gt[i] = static_cast<uint8_t>(rng() % 20 == 0 ? 255 : rng() % k);
    pred[i] = static_cast<uint8_t>(rng() % 3 == 0 ? rng() % k : gt[i] == 255 ? 0 : gt[i]);
  }
  WriteFileAtomic(dir / "gt.raw", std::string(gt.begin(), gt.end()));
  WriteFileAtomic(dir / "pred.raw", std::string(pred.begin(), pred.end()));
  const auto run = testing::RunPython(testing::SourcePath("tests/evaluation/semantic_metrics_reference.py") + " " +
                                      std::to_string(k) + " " + (dir / "gt.raw").string() + " " +
                                      (dir / "pred.raw").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto ref = nlohmann::json::parse(run.output);
  const SemanticMetrics m = Compute(k, gt, pred);
  EXPECT_EQ(m.confusion, ref["confusion"].get<std::vector<int64_t>>());
  EXPECT_NEAR(m.mean_iou, ref["mean_iou"].get<double>(), 1e-12);
  EXPECT_NEAR(m.pixel_accuracy, ref["pixel_accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(m.mean_class_accuracy, ref["mean_class_accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(m.frequency_weighted_iou, ref["frequency_weighted_iou"].get<double>(), 1e-12);
  for (int c = 0; c < k; ++c) EXPECT_NEAR(m.per_class[c].iou, ref["iou"][c].get<double>(), 1e-12);
}

}  // namespace
}  // namespace segtune
