// Parity of the C++ COCO evaluator with a line-by-line Python transliteration of pycocotools'
// coco.py/cocoeval.py (tests/evaluation/pycocotools_cocoeval_transliteration.py) on a random bbox
// dataset, and the coco-eval verb's output files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "segtune/formats/coco.h"
#include "segtune/formats/rle.h"
#include "segtune/evaluation/coco_eval.h"
#include "segtune/evaluation/coco_eval_command.h"
#include "test_util.h"

namespace segtune {
namespace {

// 200 images, 6 categories (one never detected, one never annotated), crowds, images without gt,
// scores on a coarse grid (ties across and within images), jittered true positives, duplicates,
// random false positives, a gt with id 0, and more than 100 detections on a few images.
void WriteRandomDataset(const std::filesystem::path& gt_path, const std::filesystem::path& dt_path, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> U(0, 1);
  nlohmann::json gt = {{"images", nlohmann::json::array()}, {"categories", nlohmann::json::array()},
                       {"annotations", nlohmann::json::array()}};
  for (int c = 1; c <= 6; ++c) gt["categories"].push_back({{"id", c * 3}, {"name", "cat" + std::to_string(c)}});
  nlohmann::json dt = nlohmann::json::array();
  int64_t ann_id = 0;  // The first gt gets id 0 (pycocotools never counts its matches).
  for (int i = 0; i < 200; ++i) {
    const int image_id = 1000 - 3 * i;  // File order differs from sorted order.
    const double W = 200 + 400 * U(rng), H = 200 + 400 * U(rng);
    gt["images"].push_back({{"id", image_id}, {"width", int(W)}, {"height", int(H)}, {"file_name", "x.jpg"}});
    const int n_gt = i % 10 == 0 ? 0 : int(U(rng) * 8);
    for (int g = 0; g < n_gt; ++g) {
      const int cat = 3 * (1 + int(U(rng) * 5));  // Category 18 never gets ground truth.
      const double s = std::pow(2.0, 2 + 6 * U(rng));  // Sizes 4..256 px: small, medium and large.
      const double w = s * (0.5 + U(rng)), h = s * (0.5 + U(rng));
      const double x = U(rng) * (W - w), y = U(rng) * (H - h);
      const bool crowd = U(rng) < 0.08;
      const double area = w * h * (0.6 + 0.4 * U(rng));  // The area field, not the box area, decides ranges.
      gt["annotations"].push_back({{"id", ann_id++}, {"image_id", image_id}, {"category_id", cat},
                                   {"bbox", {x, y, w, h}}, {"area", area}, {"iscrowd", crowd ? 1 : 0}});
      if (cat == 15) continue;  // Category 15 is never detected.
      const int copies = U(rng) < 0.2 ? 2 : 1;
      for (int k = 0; k < copies; ++k) {
        if (U(rng) < 0.15) continue;  // Missed.
        const double j = 0.25 * U(rng);
        dt.push_back({{"image_id", image_id}, {"category_id", cat},
                      {"bbox", {x + j * w * (U(rng) - .5), y + j * h * (U(rng) - .5), w * (1 + j * (U(rng) - .5)),
                                h * (1 + j * (U(rng) - .5))}},
                      {"score", std::round(U(rng) * 20) / 20}});
      }
    }
    const int n_fp = i % 37 == 0 ? 130 : int(U(rng) * 6);
    for (int f = 0; f < n_fp; ++f) {
      const double w = 4 + 150 * U(rng), h = 4 + 150 * U(rng);
      dt.push_back({{"image_id", image_id}, {"category_id", 3 * (1 + int(U(rng) * 6))},
                    {"bbox", {U(rng) * (W - w), U(rng) * (H - h), w, h}}, {"score", std::round(U(rng) * 20) / 20}});
    }
  }
  std::ofstream(gt_path) << gt.dump();
  std::ofstream(dt_path) << dt.dump();
}

std::vector<double> RandomPolygon(std::mt19937& rng, double cx, double cy, double rx, double ry) {
  std::uniform_real_distribution<double> U(0.6, 1.0);
  const int n = 5 + int(rng() % 6);
  std::vector<double> xy;
  for (int i = 0; i < n; ++i) {
    const double a = 2 * M_PI * i / n;
    xy.push_back(cx + rx * U(rng) * std::cos(a));
    xy.push_back(cy + ry * U(rng) * std::sin(a));
  }
  return xy;
}

// Mask data: polygon ground truth (some in two parts), crowd regions as uncompressed RLE, and
// detections as compressed RLE strings with jitter, false positives and tied scores.
void WriteRandomMaskDataset(const std::filesystem::path& gt_path, const std::filesystem::path& dt_path, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> U(0, 1);
  nlohmann::json gt = {{"images", nlohmann::json::array()}, {"categories", {{{"id", 1}, {"name", "a"}}, {{"id", 2}, {"name", "b"}}}},
                       {"annotations", nlohmann::json::array()}};
  nlohmann::json dt = nlohmann::json::array();
  int64_t ann_id = 1;
  for (int i = 1; i <= 40; ++i) {
    const uint32_t W = 60 + rng() % 60, H = 50 + rng() % 60;
    gt["images"].push_back({{"id", i}, {"width", W}, {"height", H}, {"file_name", "x.jpg"}});
    const int n_gt = int(U(rng) * 5);
    for (int g = 0; g < n_gt; ++g) {
      const int cat = 1 + int(rng() % 2);
      const double rx = 2 + U(rng) * 20, ry = 2 + U(rng) * 20, cx = U(rng) * W, cy = U(rng) * H;
      std::vector<std::vector<double>> parts = {RandomPolygon(rng, cx, cy, rx, ry)};
      if (U(rng) < 0.2) parts.push_back(RandomPolygon(rng, U(rng) * W, U(rng) * H, 4, 4));
      const Rle mask = RleFromPolygons(parts, H, W);
      const bool crowd = U(rng) < 0.1;
      nlohmann::json seg = parts;
      if (crowd) seg = {{"size", {H, W}}, {"counts", mask.counts}};
      gt["annotations"].push_back({{"id", ann_id++}, {"image_id", i}, {"category_id", cat}, {"segmentation", seg},
                                   {"area", double(RleArea(mask)) * (0.8 + 0.4 * U(rng))}, {"bbox", RleToBbox(mask)},
                                   {"iscrowd", crowd ? 1 : 0}});
      if (U(rng) < 0.15) continue;
      const double j = 0.3 * U(rng);
      const Rle d = RleFromPolygon(RandomPolygon(rng, cx + j * rx, cy - j * ry, rx * (1 + j), ry * (1 - j)), H, W);
      dt.push_back({{"image_id", i}, {"category_id", cat}, {"score", std::round(U(rng) * 10) / 10},
                    {"segmentation", {{"size", {H, W}}, {"counts", RleToString(d)}}}});
    }
    for (int f = int(U(rng) * 4); f > 0; --f) {
      const Rle d = RleFromPolygon(RandomPolygon(rng, U(rng) * W, U(rng) * H, 3 + 15 * U(rng), 3 + 15 * U(rng)), H, W);
      dt.push_back({{"image_id", i}, {"category_id", 1 + int(rng() % 2)}, {"score", std::round(U(rng) * 10) / 10},
                    {"segmentation", {{"size", {H, W}}, {"counts", RleToString(d)}}}});
    }
  }
  std::ofstream(gt_path) << gt.dump();
  std::ofstream(dt_path) << dt.dump();
}

std::array<double, 12> PythonStats(const std::filesystem::path& gt, const std::filesystem::path& dt,
                                   const std::filesystem::path& out, const std::string& type = "bbox",
                                   const std::string& extra_args = "") {
  const auto run = testing::RunPython(testing::SourcePath("tests/evaluation/pycocotools_cocoeval_transliteration.py") +
                                      " '" + gt.string() + "' '" + dt.string() + "' '" + out.string() + "' --type " + type +
                                      " " + extra_args);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json j;
  std::ifstream(out) >> j;
  std::array<double, 12> stats{};
  for (int i = 0; i < 12; ++i) stats[i] = j["stats"][i].get<double>();
  return stats;
}

TEST(CocoEvalParity, MatchesPycocotoolsTransliterationOnRandomBboxData) {
  for (uint32_t seed : {11u, 12u}) {
    testing::TempDir dir;
    WriteRandomDataset(dir / "gt.json", dir / "dt.json", seed);
    const auto want = PythonStats(dir / "gt.json", dir / "dt.json", dir / "py.json");
    CocoEvalParams params;
    params.results_kind = FirstResultHasBox(dir / "dt.json") ? CocoResultsKind::kBoxes : CocoResultsKind::kMasks;
    const auto r = EvaluateCoco(LoadCoco(dir / "gt.json"), LoadCocoResults(dir / "dt.json"), params);
    for (int i = 0; i < 12; ++i) {
      EXPECT_NEAR(r.stats[i], want[i], 1e-9) << "stat " << i << " seed " << seed;
      EXPECT_GT(want[i], 0) << "stat " << i << " should be exercised";
    }
  }
}

TEST(CocoEvalParity, MatchesPycocotoolsTransliterationOnRandomMaskData) {
  testing::TempDir dir;
  WriteRandomMaskDataset(dir / "gt.json", dir / "dt.json", 21);
  const auto want = PythonStats(dir / "gt.json", dir / "dt.json", dir / "py.json", "segm");
  CocoEvalParams params;
  params.iou_type = CocoIouType::kSegm;
  params.results_kind = FirstResultHasBox(dir / "dt.json") ? CocoResultsKind::kBoxes : CocoResultsKind::kMasks;
  const auto r = EvaluateCoco(LoadCoco(dir / "gt.json"), LoadCocoResults(dir / "dt.json"), params);
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(r.stats[i], want[i], 1e-9) << "stat " << i;
  EXPECT_GT(want[0], 0);
}

TEST(CocoEvalParity, NoCatsMatchesTransliterationWithUseCatsZero) {
  testing::TempDir dir;
  WriteRandomDataset(dir / "gt.json", dir / "dt.json", 13);
  const auto want = PythonStats(dir / "gt.json", dir / "dt.json", dir / "py.json", "bbox", "--no-cats");
  const auto with_cats = PythonStats(dir / "gt.json", dir / "dt.json", dir / "py_cats.json");
  const auto run = testing::RunSegtune("coco-eval --gt '" + (dir / "gt.json").string() + "' --dt '" +
                                       (dir / "dt.json").string() + "' --type bbox --no-cats -o '" +
                                       (dir / "m.json").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json metrics;
  std::ifstream(dir / "m.json") >> metrics;
  bool differs = false;
  for (int i = 0; i < 12; ++i) {
    EXPECT_NEAR(metrics["stats_list"][i].get<double>(), want[i], 1e-9) << "stat " << i;
    differs |= std::abs(want[i] - with_cats[i]) > 1e-6;
  }
  EXPECT_TRUE(differs) << "the data should make useCats matter";
}

TEST(CocoEvalParity, NoCatsSegmMatchesTransliteration) {
  testing::TempDir dir;
  WriteRandomMaskDataset(dir / "gt.json", dir / "dt.json", 22);
  const auto want = PythonStats(dir / "gt.json", dir / "dt.json", dir / "py.json", "segm", "--no-cats");
  CocoEvalParams params;
  params.iou_type = CocoIouType::kSegm;
  params.use_cats = false;
  params.results_kind = CocoResultsKind::kMasks;
  const auto r = EvaluateCoco(LoadCoco(dir / "gt.json"), LoadCocoResults(dir / "dt.json"), params);
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(r.stats[i], want[i], 1e-9) << "stat " << i;
  EXPECT_EQ(r.cat_ids, std::vector<int64_t>{-1});
}

TEST(CocoEvalCommand, PrintsSummaryAndWritesMetrics) {
  testing::TempDir dir;
  WriteRandomDataset(dir / "gt.json", dir / "dt.json", 3);
  nlohmann::json dt;
  std::ifstream(dir / "dt.json") >> dt;
  dt.push_back({{"image_id", 123456}, {"category_id", 3}, {"bbox", {0, 0, 5, 5}}, {"score", 0.5}});
  std::ofstream(dir / "dt.json") << dt.dump();
  const auto run = testing::RunSegtune("coco-eval --gt '" + (dir / "gt.json").string() + "' --dt '" +
                                       (dir / "dt.json").string() + "' --type bbox --per-class");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = "),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("1 of "), std::string::npos) << "unknown image reported: " << run.output;
  EXPECT_NE(run.output.find("123456"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("cat1"), std::string::npos) << "per-class table: " << run.output;
  nlohmann::json metrics;
  std::ifstream(dir / "metrics.json") >> metrics;
  ASSERT_EQ(metrics["stats_list"].size(), 12u);
  EXPECT_EQ(metrics["results"]["unknown_image"], 1);
}

// The verb's back-end returns the evaluation, the warnings and the output it wrote; the CLI prints them.
TEST(CocoEvalCommand, ReturnsTheResultAndWarningsAndWritesMetrics) {
  testing::TempDir dir;
  WriteRandomDataset(dir / "gt.json", dir / "dt.json", 4);
  nlohmann::json dt;
  std::ifstream(dir / "dt.json") >> dt;
  dt.push_back({{"image_id", 123456}, {"category_id", 3}, {"bbox", {0, 0, 5, 5}}, {"score", 0.5}});
  std::ofstream(dir / "dt.json") << dt.dump();
  CocoEvalOptions options;
  options.gt = dir / "gt.json";
  options.dt = dir / "dt.json";
  options.output = dir / "out" / "m.json";
  std::filesystem::create_directories(dir / "out");
  const CocoEvalCommandResult result = RunCocoEvalCommand(options);

  CocoEvalParams params;  // The same evaluation through the library's own entry point.
  params.results_kind = CocoResultsKind::kBoxes;
  const CocoEvalResult direct = EvaluateCoco(LoadCoco(dir / "gt.json"), LoadCocoResults(dir / "dt.json"), params);
  for (int i = 0; i < 12; ++i) EXPECT_DOUBLE_EQ(result.eval.stats[i], direct.stats[i]) << "stat " << i;
  EXPECT_EQ(result.eval.report.unknown_image, 1u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0].rfind((dir / "dt.json").string() + ": 1 of ", 0), 0u) << result.warnings[0];
  EXPECT_NE(result.warnings[0].find("image_id 123456"), std::string::npos) << result.warnings[0];
  EXPECT_EQ(result.output, dir / "out" / "m.json");
  nlohmann::json metrics;
  std::ifstream(dir / "out" / "m.json") >> metrics;
  ASSERT_EQ(metrics["stats_list"].size(), 12u);
  EXPECT_DOUBLE_EQ(metrics["stats_list"][0].get<double>(), direct.stats[0]);
  EXPECT_FALSE(std::filesystem::exists(dir / "metrics.json")) << "-o is honoured";
}

TEST(CocoEvalCommand, RejectsUnknownType) {
  const auto run = testing::RunSegtune("coco-eval --gt a.json --dt b.json --type keypoints");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("keypoints"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace segtune
