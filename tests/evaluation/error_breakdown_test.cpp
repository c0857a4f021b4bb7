#include "segtune/evaluation/error_breakdown.h"

#include <gtest/gtest.h>

#include <map>

namespace {

using segtune::CocoAnnotation;
using segtune::CocoDataset;

CocoAnnotation Box(int64_t id, int64_t category, double x, double y, double w, double h) {
  CocoAnnotation a;
  a.id = id;
  a.image_id = {"1", true};
  a.category_id = category;
  a.bbox = {x, y, w, h};
  a.area = w * h;
  return a;
}

CocoAnnotation Det(int64_t category, double x, double y, double w, double h, double score) {
  CocoAnnotation a = Box(0, category, x, y, w, h);
  a.score = score;
  return a;
}

CocoDataset Truth() {
  CocoDataset gt;
  gt.images.push_back({{"1", true}, "a.jpg", 640, 640, "", "", {}});
  gt.categories = {{1, "cat", "", {}}, {2, "dog", "", {}}};
  gt.annotations = {Box(1, 1, 0, 0, 20, 20),      // A: found, and found twice.
                    Box(2, 2, 100, 100, 20, 20),  // B: a dog called a cat.
                    Box(3, 1, 200, 200, 20, 20),  // C: a cat boxed badly.
                    Box(4, 1, 300, 300, 20, 20),   // D: not detected at all.
                    Box(5, 1, 600, 600, 20, 20)};  // E: found, with a low score.
  return gt;
}

std::map<std::string, segtune::ErrorTypeCost> ByType(const segtune::ErrorBreakdown& b) {
  std::map<std::string, segtune::ErrorTypeCost> out;
  for (const auto& e : b.errors) out[e.type] = e;
  return out;
}

TEST(ErrorBreakdown, EachConstructedErrorGetsItsTypeAndFixingItRaisesAp50) {
  const std::vector<CocoAnnotation> dt = {
      Det(1, 0, 0, 20, 20, 0.95),      // TP on A.
      Det(1, 1, 1, 20, 20, 0.9),       // IoU 0.82 with A, already matched: duplicate.
      Det(1, 100, 100, 20, 20, 0.85),  // Exactly on the dog B: classification.
      Det(1, 210, 210, 20, 20, 0.8),   // IoU 100/700 = 0.14 with C: localization.
      Det(2, 10, 10, 20, 20, 0.75),    // A dog at IoU 0.14 with the cat A, no dog near: both.
      Det(1, 500, 500, 20, 20, 0.7),   // Nothing near: background.
      Det(1, 600, 600, 20, 20, 0.5),   // TP on E, ranked below every error: each error lowers its precision.
  };
  const segtune::ErrorBreakdown b = segtune::ComputeErrorBreakdown(Truth(), dt, {});
  EXPECT_EQ(b.true_positives, 2);
  const auto t = ByType(b);
  ASSERT_EQ(b.errors.size(), 6u);
  for (const char* type : {"classification", "localization", "both", "duplicate", "background", "missed"}) {
    ASSERT_TRUE(t.count(type)) << type;
    EXPECT_EQ(t.at(type).count, 1) << type;
  }
  // AP50 as COCOeval gives it at the single threshold 0.5.
  segtune::CocoEvalParams p;
  p.iou_thrs = {0.5};
  p.results_kind = segtune::CocoResultsKind::kBoxes;
  EXPECT_DOUBLE_EQ(b.ap50, segtune::EvaluateCoco(Truth(), dt, p).stats[0]);
  // Fixing the classification error turns the dog into a found dog: dog AP50 goes from 0 to 1.
  EXPECT_GT(t.at("classification").delta_ap50, 0.4);
  EXPECT_GT(t.at("localization").delta_ap50, 0.0);
  EXPECT_GT(t.at("duplicate").delta_ap50, 0.0);
  EXPECT_GT(t.at("background").delta_ap50, 0.0);
  EXPECT_GT(t.at("missed").delta_ap50, 0.0);
  // The "both" detection is a dog scored below nothing else of its class: removing it alone leaves
  // dog AP50 at 0, so it costs nothing here.
  EXPECT_DOUBLE_EQ(t.at("both").delta_ap50, 0.0);
  const auto j = segtune::ErrorBreakdownToJson(b);
  EXPECT_EQ(j["errors"].size(), 6u);
  EXPECT_EQ(j["errors"][0]["type"], "classification");
}

TEST(ErrorBreakdown, PerfectDetectionsHaveNoErrorsAndCrowdMatchesAreNotErrors) {
  CocoDataset gt = Truth();
  CocoAnnotation crowd = Box(6, 1, 400, 400, 50, 50);
  crowd.iscrowd = true;
  gt.annotations.push_back(crowd);
  std::vector<CocoAnnotation> dt;
  for (size_t i = 0; i < gt.annotations.size() - 1; ++i) {
    const auto& g = gt.annotations[i];
    dt.push_back(Det(g.category_id, g.bbox[0], g.bbox[1], g.bbox[2], g.bbox[3], 0.9 - 0.1 * double(i)));
  }
  dt.push_back(Det(1, 410, 410, 20, 20, 0.95));  // Inside the crowd region: ignored, as COCOeval does.
  const segtune::ErrorBreakdown b = segtune::ComputeErrorBreakdown(gt, dt, {});
  EXPECT_DOUBLE_EQ(b.ap50, 1.0);
  EXPECT_EQ(b.true_positives, 5);
  for (const auto& e : b.errors) {
    EXPECT_EQ(e.count, 0) << e.type;
    EXPECT_EQ(e.delta_ap50, 0.0) << e.type;
  }
}

}  // namespace
