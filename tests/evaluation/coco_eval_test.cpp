// COCO evaluation on hand-built ground truth and detections whose AP/AR are computed by hand (the
// computation is written next to each case). stats = AP, AP50, AP75, APs, APm, APl, AR1, AR10,
// AR100, ARs, ARm, ARl. Precision at a recall point is tp/(tp+fp+eps) (eps = 2.2e-16), so "1" is
// checked to 1e-12.
#include "segtune/evaluation/coco_eval.h"

#include <gtest/gtest.h>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/rle.h"
#include "test_util.h"

namespace segtune {
namespace {

constexpr double kTol = 1e-12;

struct Builder {
  CocoDataset gt;
  std::vector<CocoAnnotation> dt;
  int64_t next_id = 1;

  Builder(std::vector<int64_t> image_ids = {1}, std::vector<int64_t> cat_ids = {1}, int size = 200) {
    for (int64_t id : image_ids) gt.images.push_back({{std::to_string(id), true}, "im.jpg", size, size});
    for (int64_t id : cat_ids) gt.categories.push_back({id, "c" + std::to_string(id)});
  }
  CocoAnnotation& Gt(int64_t image, std::array<double, 4> box, bool crowd = false, int64_t cat = 1) {
    CocoAnnotation a;
    a.id = next_id++;
    a.image_id = {std::to_string(image), true};
    a.category_id = cat;
    a.bbox = box;
    a.area = box[2] * box[3];
    a.iscrowd = crowd;
    gt.annotations.push_back(a);
    return gt.annotations.back();
  }
  void Dt(int64_t image, std::array<double, 4> box, double score, int64_t cat = 1) {
    CocoAnnotation a;
    a.image_id = {std::to_string(image), true};
    a.category_id = cat;
    a.bbox = box;
    a.score = score;
    dt.push_back(a);
  }
  CocoEvalResult Run(CocoEvalParams params = {}) const { return EvaluateCoco(gt, dt, params); }
};

void ExpectStats(const CocoEvalResult& r, const std::array<double, 12>& want) {
  static const char* kNames[12] = {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(r.stats[i], want[i], kTol) << kNames[i];
}

TEST(CocoEval, SinglePerfectMatchGivesApOne) {
  // One small gt (area 400) and the same box as detection: TP at every threshold.
  Builder b;
  b.Gt(1, {10, 10, 20, 20});
  b.Dt(1, {10, 10, 20, 20}, 0.9);
  ExpectStats(b.Run(), {1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1});
}

TEST(CocoEval, FalsePositiveRankedAboveTruePositive) {
  // Two gts A, B (area 100, small); detections by score: A (TP), FP, B (TP).
  // tp = [1,1,2], fp = [0,1,1], npig = 2 -> rc = [.5,.5,1], pr = [1,.5,2/3]; envelope [1,2/3,2/3].
  // Recall points 0.00..0.50 (51 of them) -> pr[0] = 1; 0.51..1.00 (50) -> pr[2] = 2/3.
  // AP = (51 + 50 * 2/3) / 101 at every IoU threshold. AR1: top-1 per image = A only -> 0.5.
  Builder b;
  b.Gt(1, {0, 0, 10, 10});
  b.Gt(1, {50, 50, 10, 10});
  b.Dt(1, {0, 0, 10, 10}, 0.9);
  b.Dt(1, {80, 0, 10, 10}, 0.8);
  b.Dt(1, {50, 50, 10, 10}, 0.7);
  const double ap = (51 + 50 * 2.0 / 3.0) / 101;
  ExpectStats(b.Run(), {ap, ap, ap, ap, -1, -1, 0.5, 1, 1, 1, -1, -1});
}

TEST(CocoEval, CrowdRegionAbsorbsDetections) {
  // Regular gt A and a crowd C = [50,50,40,40]. Two detections inside C (IoU with a crowd = inter /
  // dt area = 1) outrank the TP on A; both match the crowd (a crowd may match several), so they are
  // ignored instead of counted as FPs: AP = 1. Without the crowd rule it would be 1/2.
  Builder b;
  b.Gt(1, {0, 0, 10, 10});
  b.Gt(1, {50, 50, 40, 40}, /*crowd=*/true);
  b.Dt(1, {50, 50, 10, 10}, 0.95);
  b.Dt(1, {60, 60, 10, 10}, 0.93);
  b.Dt(1, {0, 0, 10, 10}, 0.9);
  // AR1: the top detection per image is the absorbed one, so no regular gt is recalled: 0.
  ExpectStats(b.Run(), {1, 1, 1, 1, -1, -1, 0, 1, 1, 1, -1, -1});
}

TEST(CocoEval, AreaRangesIgnoreObjectsOutsideThem) {
  // S = [0,0,10,10] (area 100, small), L = [100,100,100,100] (area 10000, large).
  // dFP = [50,0,40,40] (area 1600, medium) 0.95 matches nothing; dS 0.9 on S; dL 0.8 on L.
  // all:    FP, TP, TP; npig 2 -> rc [0,.5,1], pr [0,.5,2/3] -> envelope 2/3 everywhere: AP 2/3.
  // small:  L ignored, dL matched to the ignored L -> ignored; dFP unmatched and outside -> ignored. AP 1.
  // medium: S and L outside -> no regular gt -> -1 (dFP alone does not make it defined).
  // large:  S ignored, dS ignored with it, dFP outside -> ignored; dL TP. AP 1.
  Builder b;
  b.Gt(1, {0, 0, 10, 10});
  b.Gt(1, {100, 100, 100, 100});
  b.Dt(1, {50, 0, 40, 40}, 0.95);
  b.Dt(1, {0, 0, 10, 10}, 0.9);
  b.Dt(1, {100, 100, 100, 100}, 0.8);
  // AR1: top detection is the FP: 0. ARs/ARl: 1.
  ExpectStats(b.Run(), {2.0 / 3, 2.0 / 3, 2.0 / 3, 1, -1, 1, 0, 1, 1, 1, -1, 1});
}

TEST(CocoEval, TiesInScoreKeepImageOrderThenFileOrder) {
  // Image ids 2 and 10 (sorted numerically, as pycocotools sorts ints: 2 first). Image 2 has no gt
  // and an FP at 0.5; image 10 has one gt and its TP at 0.5. The stable sort keeps image 2's FP
  // first: tp [0,1], fp [1,1], rc [0,1], pr [0,.5] -> envelope .5 -> AP .5. (TP first would give 1.)
  Builder b({10, 2});
  b.Gt(10, {0, 0, 20, 20});
  b.Dt(10, {0, 0, 20, 20}, 0.5);
  b.Dt(2, {0, 0, 20, 20}, 0.5);
  EXPECT_NEAR(b.Run().stats[0], 0.5, kTol);

  // Within an image the results-file order decides: FP listed first -> AP .5; TP first -> AP 1.
  Builder fp_first;
  fp_first.Gt(1, {0, 0, 20, 20});
  fp_first.Dt(1, {100, 100, 20, 20}, 0.5);
  fp_first.Dt(1, {0, 0, 20, 20}, 0.5);
  EXPECT_NEAR(fp_first.Run().stats[0], 0.5, kTol);
  Builder tp_first;
  tp_first.Gt(1, {0, 0, 20, 20});
  tp_first.Dt(1, {0, 0, 20, 20}, 0.5);
  tp_first.Dt(1, {100, 100, 20, 20}, 0.5);
  EXPECT_NEAR(tp_first.Run().stats[0], 1, kTol);
}

TEST(CocoEval, CategoriesWithoutDetectionsScoreZeroAndWithoutGtAreUndefined) {
  // cat 1: perfect; cat 2: a gt, no detection -> precision 0 everywhere; cat 3: detections, no gt
  // -> -1, left out of the mean. AP = (1 + 0) / 2; per class [1, 0, -1].
  Builder b({1}, {1, 2, 3});
  b.Gt(1, {0, 0, 20, 20}, false, 1);
  b.Gt(1, {50, 50, 20, 20}, false, 2);
  b.Dt(1, {0, 0, 20, 20}, 0.9, 1);
  b.Dt(1, {120, 120, 20, 20}, 0.9, 3);
  const auto r = b.Run();
  ExpectStats(r, {.5, .5, .5, .5, -1, -1, .5, .5, .5, .5, -1, -1});
  ASSERT_EQ(r.per_class_ap.size(), 3u);
  EXPECT_NEAR(r.per_class_ap[0], 1, kTol);
  EXPECT_NEAR(r.per_class_ap[1], 0, kTol);
  EXPECT_EQ(r.per_class_ap[2], -1);
}

TEST(CocoEval, EmptyResultsGiveZeroWhereThereIsGtAndMinusOneElsewhere) {
  // No detections: recall 0 and precision 0 wherever a regular gt exists; -1 for empty ranges.
  Builder b;
  b.Gt(1, {0, 0, 10, 10});         // small
  b.Gt(1, {100, 100, 50, 50});     // medium (2500)
  ExpectStats(b.Run(), {0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1});
}

TEST(CocoEval, MaxDetsTruncatesPerImage) {
  // One gt; three FPs outrank the TP. maxDets 1, 10, 100: AR1 = 0 (only the top FP), AR10 = 1.
  // AP (100 dets): FP FP FP TP -> rc [0,0,0,1], pr [0,0,0,.25] -> envelope .25 -> AP .25.
  Builder b;
  b.Gt(1, {0, 0, 20, 20});
  for (int i = 0; i < 3; ++i) b.Dt(1, {100.0 + 20 * i, 0, 10, 10}, 0.9 - 0.1 * i);
  b.Dt(1, {0, 0, 20, 20}, 0.5);
  ExpectStats(b.Run(), {.25, .25, .25, .25, -1, -1, 0, 1, 1, 1, -1, -1});

  // maxDets 1, 2, 3: the TP is cut. COCOeval's first line asks for maxDets=100, which is not among
  // them -> -1 (pycocotools prints -1.000 there too); AP50 at maxDets[2] = 3 -> 0.
  CocoEvalParams p;
  p.max_dets = {3, 1, 2};  // Sorted by the evaluator, as COCOeval does.
  ExpectStats(b.Run(p), {-1, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1});
}

TEST(CocoEval, GtWithIdZeroIsNeverCountedAsMatched) {
  // pycocotools stores the matched gt *id* in dtMatches and reads 0 as "unmatched": a detection on a
  // gt whose id is 0 becomes a false positive, and that gt is never recalled.
  Builder b;
  b.Gt(1, {0, 0, 20, 20}).id = 0;
  b.Dt(1, {0, 0, 20, 20}, 0.9);
  ExpectStats(b.Run(), {0, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1});
}

TEST(CocoEval, ResultsOnUnknownImagesAreReportedAndLeftOut) {
  Builder b;
  b.Gt(1, {0, 0, 20, 20});
  b.Dt(1, {0, 0, 20, 20}, 0.9);
  b.Dt(7, {0, 0, 20, 20}, 0.95);      // Image 7 does not exist.
  b.Dt(1, {0, 0, 20, 20}, 0.99, 42);  // Category 42 does not exist.
  const auto r = b.Run();
  EXPECT_EQ(r.report.unknown_image, 1u);
  EXPECT_EQ(r.report.unknown_image_examples, std::vector<std::string>{"7"});
  EXPECT_EQ(r.report.unknown_category, 1u);
  EXPECT_NEAR(r.stats[0], 1, kTol);
}

TEST(CocoEval, IouExactlyAtThresholdMatches) {
  // dt [0,0,20,10] on gt [0,0,20,20]: IoU = 200/400 = 0.5 exactly -> TP at .5 only.
  // AP = (1 + 0*9)/10 = 0.1; AP50 = 1; AP75 = 0. Recall at .5 is 1, else 0 -> AR = 0.1.
  Builder b;
  b.Gt(1, {0, 0, 20, 20});
  b.Dt(1, {0, 0, 20, 10}, 0.9);
  ExpectStats(b.Run(), {.1, 1, 0, .1, -1, -1, .1, .1, .1, .1, -1, -1});
}

TEST(CocoEval, SegmUsesMaskIouAndPolygonGroundTruth) {
  // gt polygon square (0,0)-(10,10) covers pixels 0..9 x 0..9 (area field 100). The detection RLE
  // covers columns 0..4 of it: IoU = 50/100 = .5 -> TP only at .5: AP .1, AP50 1, AP75 0.
  Builder b({1}, {1}, 20);
  auto& g = b.Gt(1, {0, 0, 10, 10});
  g.segmentation.polygons = {{0, 0, 10, 0, 10, 10, 0, 10}};
  std::vector<uint8_t> mask(20 * 20, 0);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 5; ++x) mask[y * 20 + x] = 1;
  CocoAnnotation d;
  d.image_id = {"1", true};
  d.category_id = 1;
  d.segmentation.rle = RleEncode(mask.data(), 20, 20);
  d.score = 0.8;
  b.dt.push_back(d);
  CocoEvalParams p;
  p.iou_type = CocoIouType::kSegm;
  const auto r = b.Run(p);
  EXPECT_NEAR(r.stats[0], .1, kTol);
  EXPECT_NEAR(r.stats[1], 1, kTol);
  EXPECT_NEAR(r.stats[2], 0, kTol);
  EXPECT_EQ(r.num_dt, 1u);
}

// An RLE mask of the pixels x in [x0, x1), y in [y0, y1) of a size x size image.
Rle RectMask(int x0, int y0, int x1, int y1, int size) {
  std::vector<uint8_t> mask(size_t(size) * size, 0);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) mask[size_t(y) * size + x] = 1;
  return RleEncode(mask.data(), uint32_t(size), uint32_t(size));
}

void MaskDt(Builder& b, const Rle& mask, double score, std::array<double, 4> box = {}) {
  CocoAnnotation d;
  d.image_id = {"1", true};
  d.category_id = 1;
  d.segmentation.rle = mask;
  d.bbox = box;
  d.score = score;
  b.dt.push_back(d);
}

TEST(CocoEval, SegmCrowdIouDividesByDetectionArea) {
  // Crowd C = pixels [0,10)x[0,10) (RLE), regular A = [20,30)x[20,30) (polygon), both area 100.
  // d1 (0.9) = [5,15)x[0,10): 50 pixels inside C. Against a crowd IoU = 50 / area(d1) = .5 (not
  // 50/150): at IoU .5 d1 matches C and is ignored; above .5 it is a FP ranked before d2 (0.8, = A).
  // t = .5: AP 1. t > .5: tp [0,1], fp [1,1] -> pr [0,.5] -> envelope .5 -> AP .5.
  // AP = (1 + 9 * .5) / 10 = .55; AP75 = .5. A is recalled at every t by d2: AR10 = AR100 = 1;
  // AR1 keeps only d1 -> 0. Medium/large: no regular gt -> -1.
  Builder b({1}, {1}, 40);
  auto& crowd = b.Gt(1, {0, 0, 10, 10}, /*crowd=*/true);
  crowd.segmentation.rle = RectMask(0, 0, 10, 10, 40);
  auto& a = b.Gt(1, {20, 20, 10, 10});
  a.segmentation.polygons = {{20, 20, 30, 20, 30, 30, 20, 30}};
  MaskDt(b, RectMask(5, 0, 15, 10, 40), 0.9);
  MaskDt(b, RectMask(20, 20, 30, 30, 40), 0.8);
  CocoEvalParams p;
  p.iou_type = CocoIouType::kSegm;
  ExpectStats(b.Run(p), {.55, 1, .5, .55, -1, -1, 0, 1, 1, 1, -1, -1});
}

TEST(CocoEval, ResultsKindSaysWhetherTheBoxOrTheMaskGivesTheDetectionArea) {
  // gt = [0,10)x[0,10) (area 100, small). d1 (0.9) = mask [50,60)x[50,60) with a box [40,40,40,40]
  // that is not its mask's box; d2 (0.8) = the gt's mask with its own box. Segm IoU: d1 FP, d2 TP.
  // Read as masks: d1's area is 100 (small) -> in "small" it is a FP before the TP: APs = .5.
  // Read as boxes: d1's area is 40*40 = 1600 (medium) -> ignored in "small": APs = 1. kAuto does
  // what loadRes does: the first result has a box that is not its mask's box, so boxes.
  Builder b({1}, {1}, 100);
  b.Gt(1, {0, 0, 10, 10}).segmentation.rle = RectMask(0, 0, 10, 10, 100);
  MaskDt(b, RectMask(50, 50, 60, 60, 100), 0.9, {40, 40, 40, 40});
  MaskDt(b, RectMask(0, 0, 10, 10, 100), 0.8, {0, 0, 10, 10});
  CocoEvalParams p;
  p.iou_type = CocoIouType::kSegm;
  p.results_kind = CocoResultsKind::kMasks;
  EXPECT_NEAR(b.Run(p).stats[3], .5, kTol);
  p.results_kind = CocoResultsKind::kBoxes;
  EXPECT_NEAR(b.Run(p).stats[3], 1, kTol);
  p.results_kind = CocoResultsKind::kAuto;
  EXPECT_NEAR(b.Run(p).stats[3], 1, kTol);
}

TEST(CocoEval, WithoutCategoriesAnyDetectionMatchesAnyGroundTruth) {
  // gt A (cat 1), gt B (cat 2); detections: on A labelled 2 (0.9), on B labelled 2 (0.8).
  // With categories: cat 1 has a gt and no TP -> AP 0; cat 2: FP then TP -> pr [0,.5] -> .5; AP .25.
  // useCats = 0: one pool, both detections TPs -> AP 1 (cat_ids reported as {-1}).
  Builder b({1}, {1, 2});
  b.Gt(1, {0, 0, 10, 10}, false, 1);
  b.Gt(1, {50, 50, 10, 10}, false, 2);
  b.Dt(1, {0, 0, 10, 10}, 0.9, 2);
  b.Dt(1, {50, 50, 10, 10}, 0.8, 2);
  EXPECT_NEAR(b.Run().stats[0], .25, kTol);
  CocoEvalParams p;
  p.use_cats = false;
  const auto r = b.Run(p);
  ExpectStats(r, {1, 1, 1, 1, -1, -1, .5, 1, 1, 1, -1, -1});
  EXPECT_EQ(r.cat_ids, std::vector<int64_t>{-1});
}

TEST(CocoEval, SummaryHasPycocotoolsLayout) {
  Builder b;
  b.Gt(1, {10, 10, 20, 20});
  b.Dt(1, {10, 10, 20, 20}, 0.9);
  const std::string text = FormatCocoSummary(b.Run());
  EXPECT_EQ(text.substr(0, text.find('\n')),
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000");
  EXPECT_NE(text.find(" Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000\n"),
            std::string::npos);
  EXPECT_NE(text.find(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000\n"),
            std::string::npos);
  EXPECT_NE(text.find(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000\n"),
            std::string::npos);
}


// issue 18 item 12: these errors did not say which file (nor which annotation) they were about.
TEST(CocoEvalCli, MissingScoreAndOutOfRangePolygonNameTheFileAndTheEntry) {
  testing::TempDir dir;
  const std::string gt = R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 20}],
    "categories": [{"id": 1, "name": "c"}],
    "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 0,
                     "segmentation": [[0, 0, 2e9, 0, 5, 5]]}]})";
  WriteFileAtomic(dir / "gt.json", gt);
  WriteFileAtomic(dir / "noscore.json", R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}])");
  const auto noscore = testing::RunSegtune("coco-eval --gt '" + (dir / "gt.json").string() + "' --dt '" +
                                           (dir / "noscore.json").string() + "'");
  EXPECT_EQ(noscore.exit_code, 1) << noscore.output;
  EXPECT_NE(noscore.output.find((dir / "noscore.json").string() + ": results[0]: missing \"score\""),
            std::string::npos)
      << noscore.output;
  WriteFileAtomic(dir / "dt.json", R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.9}])");
  const auto segm = testing::RunSegtune("coco-eval --type segm --gt '" + (dir / "gt.json").string() + "' --dt '" +
                                        (dir / "dt.json").string() + "'");
  EXPECT_EQ(segm.exit_code, 1) << segm.output;
  EXPECT_NE(segm.output.find((dir / "gt.json").string() + ": annotation 7: segmentation: polygon coordinate"),
            std::string::npos)
      << segm.output;
}

}  // namespace
}  // namespace segtune
