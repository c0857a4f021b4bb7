#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string_view>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/evaluation/coco_eval.h"
#include "segtune/evaluation/detection_gallery.h"
#include "segtune/evaluation/semantic_gallery.h"
#include "segtune/evaluation/semantic_metrics.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/report/html_report.h"
#include "segtune/report/run_data.h"
#include "segtune/report/svg_chart.h"
#include "test_util.h"

namespace segtune::report {
namespace {

using testing::TempDir;

// Values of attribute `name` on elements whose opening tag contains `marker`, in document order.
// (A plain scan: std::regex recurses per character and overflows the stack on a thumbnail's data URI.)
std::vector<std::string> Attributes(const std::string& html, const std::string& marker, const std::string& name) {
  std::vector<std::string> values;
  const std::string key = " " + name + "=\"";
  for (size_t open = html.find('<'); open != std::string::npos; open = html.find('<', open + 1)) {
    const size_t close = html.find('>', open);
    if (close == std::string::npos) break;
    const std::string_view tag(html.data() + open, close - open);
    if (tag.find(marker) == std::string_view::npos) continue;
    const size_t at = tag.find(key);
    if (at == std::string_view::npos) continue;
    const size_t begin = at + key.size();
    values.emplace_back(tag.substr(begin, tag.find('"', begin) - begin));
  }
  return values;
}

// A training directory whose metrics.csv has `steps` rows: loss 2/(1+step/100), eval every 10th row.
std::filesystem::path WriteTrainDir(const TempDir& dir, const std::string& name, int steps, double eval_scale) {
  const std::filesystem::path run = dir / name;
  std::filesystem::create_directories(run);
  std::string csv = "step,loss,learning_rate,images_per_second,eval_miou,eval_pixel_accuracy\n";
  for (int i = 1; i <= steps; ++i) {
    const int step = i * 10;
    char row[160];
    if (i % 10 == 0) {
      const double miou = eval_scale * (1 - 1.0 / i) - (i == 30 ? 0.2 : 0);  // A dip at step 300.
      std::snprintf(row, sizeof row, "%d,%.9g,%.9g,%.3f,%.9g,%.9g\n", step, 2 / (1 + step / 100.0), 0.01, 9.5, miou,
                    miou + 0.1);
    } else {
      std::snprintf(row, sizeof row, "%d,%.9g,%.9g,%.3f,,\n", step, 2 / (1 + step / 100.0), 0.01, 9.5);
    }
    csv += row;
  }
  WriteFileAtomic(run / "metrics.csv", csv);
  return run;
}

TEST(MetricsCsv, ReadsColumnsRowsAndEmptyCellsAsNaN) {
  const MetricsTable t = ParseMetricsCsv("step,loss,eval_miou\n10,1.5,\n20,1.25,0.4\n", "m.csv");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"step", "loss", "eval_miou"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(t.rows[1][1], 1.25);
  EXPECT_TRUE(std::isnan(t.rows[0][2]));
  EXPECT_DOUBLE_EQ(t.rows[1][2], 0.4);
  EXPECT_EQ(t.Column("eval_miou"), 2);
}

TEST(MetricsCsv, ABadCellOrRowNamesTheFileAndLine) {
  try {
    ParseMetricsCsv("step,loss\n10,1.5\n20,abc\n", "run/metrics.csv");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("run/metrics.csv: line 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'abc'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ParseMetricsCsv("step,loss\n10\n", "m.csv"), FormatError);
}

TEST(Report, TrainingCurvesOverlayEveryRunWithTheirLastValuesAndBestEvaluation) {
  TempDir dir;
  const RunData a = LoadRun(WriteTrainDir(dir, "fine_tuned", 50, 0.8));
  const RunData b = LoadRun(WriteTrainDir(dir, "scratch", 40, 0.5));
  const std::string html = RenderReport({a, b});
  // One chart per column, each with both runs: 5 charts x 2 series.
  EXPECT_EQ(a.name, (dir / "fine_tuned").string());  // The path as given: runs' folders have generic names.
  std::vector<std::string> expected;
  for (int chart = 0; chart < 5; ++chart) expected.insert(expected.end(), {a.name, b.name});
  EXPECT_EQ(Attributes(html, "class=\"series\"", "data-series"), expected);
  // The loss chart's last points are the last rows of metrics.csv.
  const std::vector<std::string> last_y = Attributes(html, "class=\"series\"", "data-last-y");
  EXPECT_EQ(last_y[0], FormatNumber(a.curves->rows.back()[1]));
  EXPECT_EQ(last_y[1], FormatNumber(b.curves->rows.back()[1]));
  EXPECT_EQ(last_y[0], "0.3333");  // 2 / (1 + 500 / 100), as a reader sees it.
  // The eval_miou chart skips the steps without evaluation: its last point is step 500's.
  EXPECT_EQ(Attributes(html, "class=\"series\"", "data-last-x")[6], "500");
  // The best evaluation and its step (0.8 * (1 - 1/50) at step 500).
  EXPECT_NE(html.find("best eval_miou " + FormatNumber(0.8 * (1 - 1.0 / 50)) + " at step 500"), std::string::npos);
  EXPECT_NE(html.find("last loss 0.3333 at step 500"), std::string::npos);
}

TEST(Report, ResumesAreDashedLinesAndTheBestCheckpointIsRinged) {
  TempDir dir;
  std::filesystem::create_directories(dir / "run");
  // Stopped after step 30 and resumed; eval_miou best (0.7) first reached at step 40.
  WriteFileAtomic(dir / "run" / "metrics.csv",
                  "step,loss,learning_rate,images_per_second,eval_miou,eval_pixel_accuracy,data_wait_share,segment\n"
                  "10,1.0,0.01,9,,,0.1,1\n20,0.9,0.01,9,0.5,0.8,0.2,1\n30,0.8,0.01,9,,,0.1,1\n"
                  "40,0.7,0.01,9,0.7,0.85,0.3,2\n50,0.6,0.01,9,0.7,0.9,0.1,2\n");
  const std::string html = RenderReport({LoadRun(dir / "run")});
  EXPECT_NE(html.find("resumed 1x (after step 30)"), std::string::npos);
  // One dashed line per chart (loss, learning_rate, images_per_second, eval_miou,
  // eval_pixel_accuracy, data_wait_share; segment is not a chart), all at step 30.
  EXPECT_EQ(Attributes(html, "class=\"event\"", "data-x"), std::vector<std::string>(6, "30"));
  EXPECT_EQ(Attributes(html, "class=\"chart line-chart\"", "aria-label"),
            (std::vector<std::string>{"loss", "learning_rate", "images_per_second", "eval_miou", "eval_pixel_accuracy",
                                      "data_wait_share"}));
  // The best of each eval column, the first one being what best.safetensors holds.
  EXPECT_EQ(Attributes(html, "class=\"marker\"", "data-x"), (std::vector<std::string>{"40", "50"}));
  EXPECT_NE(html.find("run: best eval_miou 0.7 at step 40 (best.safetensors)"), std::string::npos);
  EXPECT_NE(html.find("run: best eval_pixel_accuracy 0.9 at step 50<"), std::string::npos);
}

TEST(Report, SemanticEvaluationShowsTheNumbersOfMetricsJson) {
  SemanticConfusion confusion(3);
  const std::vector<uint8_t> gt = {0, 0, 0, 1, 1, 2, 2, 2, 2, 1};
  const std::vector<uint8_t> pred = {0, 0, 1, 1, 1, 2, 2, 0, 2, 2};
  confusion.Add(gt.data(), pred.data(), gt.size());
  const SemanticMetrics m = ComputeSemanticMetrics(confusion);
  TempDir dir;
  WriteFileAtomic(dir / "metrics.json", SemanticMetricsToJson(m, {"background", "bottle", "can"}));
  const std::string html = RenderReport({LoadRun(dir / "metrics.json")});
  const std::vector<std::string> bars = Attributes(html, "class=\"bar\"", "data-value");
  ASSERT_EQ(bars.size(), 6u);  // IoU then accuracy, 3 classes each.
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(bars[c], FormatNumber(m.per_class[c].iou)) << c;
    EXPECT_EQ(bars[3 + c], FormatNumber(m.per_class[c].accuracy)) << c;
  }
  EXPECT_NE(html.find("<td>mean_iou</td><td>" + FormatNumber(m.mean_iou) + "</td>"), std::string::npos);
  // Every confusion matrix cell carries its count, row-major.
  const std::vector<std::string> counts = Attributes(html, "class=\"cell\"", "data-count");
  ASSERT_EQ(counts.size(), 9u);
  for (int g = 0; g < 3; ++g) {
    for (int p = 0; p < 3; ++p) EXPECT_EQ(counts[g * 3 + p], std::to_string(confusion.at(g, p))) << g << p;
  }
  EXPECT_EQ(html.find("id=\"training\""), std::string::npos);  // No curves: no training section.
}

TEST(Report, CocoEvalMetricsShowTheTwelveNumbersAndPerClassAp) {
  CocoEvalResult r;
  for (int i = 0; i < 12; ++i) r.stats[i] = 0.05 * (i + 1);
  r.stats[3] = -1;  // APs undefined: no small objects.
  r.cat_ids = {1, 2};
  r.cat_names = {"bottle", "can"};
  r.per_class_ap = {0.25, -1};
  r.per_class_ap50 = {0.5, 0.125};
  // COCOeval's precision[T][R][K][A][M] with 2 IoU thresholds, 3 recall thresholds, 1 area, 1 maxDets.
  r.iou_thrs = {0.5, 0.75};
  r.rec_thrs = {0, 0.5, 1};
  r.area_rng = {CocoAreaRange{}};
  r.max_dets = {100};
  r.precision = {/*t=.5*/ 1, 0.5, /*r=.5*/ 0.9, 0.25, /*r=1*/ -1, 0.125,
                 /*t=.75*/ 0.8, 0.4, 0.6, 0.2, -1, -1};
  TempDir dir;
  WriteFileAtomic(dir / "metrics.json", CocoEvalResultToJson(r).dump());
  const std::string html = RenderReport({LoadRun(dir / "metrics.json")});
  EXPECT_NE(html.find("<td>AP50</td><td>0.1</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>APs</td><td>n/a</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>ARl</td><td>0.6</td>"), std::string::npos);
  // Per-class AP: the undefined one has no bar; AP50 has both.
  EXPECT_EQ(Attributes(html, "class=\"bar\"", "data-value"), (std::vector<std::string>{"0.25", "0.5", "0.125"}));
  // Precision-recall per class at IoU 0.5 and 0.75; the -1 (undefined) points are not drawn, so each
  // curve ends at the last defined recall threshold.
  EXPECT_NE(html.find("Precision-recall: bottle (bbox)"), std::string::npos);
  EXPECT_EQ(Attributes(html, "class=\"series\"", "data-last-x"), (std::vector<std::string>{"0.5", "0.5", "1", "0.5"}));
  EXPECT_EQ(Attributes(html, "class=\"series\"", "data-last-y"), (std::vector<std::string>{"0.9", "0.6", "0.125", "0.2"}));
}

TEST(Report, DetectionErrorBreakdownFromCocoEvalShowsItsCountsAndCosts) {
  TempDir dir;
  // Two cats found, one dog called a cat, one cat boxed badly, one background detection.
  WriteFileAtomic(dir / "gt.json", R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 300, "height": 300}],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "area": 400, "iscrowd": 0},
      {"id": 2, "image_id": 1, "category_id": 2, "bbox": [100, 100, 20, 20], "area": 400, "iscrowd": 0},
      {"id": 3, "image_id": 1, "category_id": 1, "bbox": [200, 200, 20, 20], "area": 400, "iscrowd": 0},
      {"id": 4, "image_id": 1, "category_id": 1, "bbox": [250, 0, 20, 20], "area": 400, "iscrowd": 0}]})");
  WriteFileAtomic(dir / "dt.json", R"([
      {"image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 20], "score": 0.9},
      {"image_id": 1, "category_id": 1, "bbox": [100, 100, 20, 20], "score": 0.8},
      {"image_id": 1, "category_id": 1, "bbox": [210, 210, 20, 20], "score": 0.7},
      {"image_id": 1, "category_id": 1, "bbox": [150, 10, 20, 20], "score": 0.6},
      {"image_id": 1, "category_id": 1, "bbox": [250, 0, 20, 20], "score": 0.5}])");
  const auto r = testing::RunSegtune("coco-eval --gt '" + (dir / "gt.json").string() + "' --dt '" +
                                     (dir / "dt.json").string() + "' -o '" + (dir / "metrics.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json metrics = nlohmann::json::parse(ReadFile(dir / "metrics.json"));
  ASSERT_TRUE(metrics.contains("error_breakdown")) << metrics.dump();
  const std::string html = RenderReport({LoadRun(dir / "metrics.json")});
  EXPECT_NE(html.find("detection errors (bbox)"), std::string::npos);
  int shown = 0;
  for (const auto& e : metrics["error_breakdown"]["errors"]) {
    const std::string row = "<tr><td>" + e["type"].get<std::string>() + "</td><td>" +
                            std::to_string(e["count"].get<int>()) + "</td><td>" +
                            FormatNumber(e["delta_ap50"].get<double>()) + "</td></tr>";
    EXPECT_NE(html.find(row), std::string::npos) << row;
    ++shown;
  }
  EXPECT_EQ(shown, 6);
  // The constructed errors are what the breakdown found (classification, localization, background;
  // the dog is then missed-by-classification, not missed).
  const auto& errors = metrics["error_breakdown"]["errors"];
  EXPECT_EQ(errors[0]["count"], 1);  // classification
  EXPECT_EQ(errors[1]["count"], 1);  // localization
  EXPECT_EQ(errors[4]["count"], 1);  // background
  EXPECT_EQ(errors[5]["count"], 0);  // missed: every ground truth is found or explained
  EXPECT_EQ(metrics["error_breakdown"]["true_positives"], 2);
}

TEST(Report, ModelCardFromAnExportDirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir / "exported");
  WriteFileAtomic(dir / "exported" / "model.json",
                  R"({"architecture": "lraspp_mobilenet_v3_large", "num_classes": 3,
                      "class_names": ["background", "bottle", "can"],
                      "preprocessing": {"input_size": [256, 320]},
                      "provenance": {"checkpoint": "train/ckpt-000200.safetensors", "checkpoint_step": 200}})");
  const std::string html = RenderReport({LoadRun(dir / "exported")});
  EXPECT_NE(html.find("<td>architecture</td><td>lraspp_mobilenet_v3_large</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>classes</td><td>background, bottle, can</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>input size (H, W)</td><td>[256,320]</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>checkpoint_step</td><td>200</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>export files</td><td>model.json ("), std::string::npos);
}

TEST(Report, ModelCardCountsTheWeightsParametersFromTheSafetensorsHeader) {
  TempDir dir;
  std::filesystem::create_directories(dir / "exported");
  WriteFileAtomic(dir / "exported" / "model.json", R"({"architecture": "x", "weights": "model.safetensors"})");
  // Two tensors, 3x4 and 5 values (17 parameters), with their data.
  const std::string header = R"({"a":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]},)"
                             R"("b":{"dtype":"F32","shape":[5],"data_offsets":[48,68]},"__metadata__":{"k":"v"}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  WriteFileAtomic(dir / "exported" / "model.safetensors", file + header + std::string(68, '\0'));
  const std::string html = RenderReport({LoadRun(dir / "exported")});
  EXPECT_NE(html.find("<td>parameters</td><td>17</td>"), std::string::npos);
  EXPECT_NE(html.find("model.safetensors (" + std::to_string(8 + header.size() + 68) + " B)"), std::string::npos);
  // A weights entry pointing outside the directory is not followed.
  WriteFileAtomic(dir / "exported" / "model.json", R"({"architecture": "x", "weights": "../model.safetensors"})");
  EXPECT_EQ(RenderReport({LoadRun(dir / "exported")}).find("<td>parameters</td>"), std::string::npos);
}

// A semantic metrics.json as `segtune eval` writes it, with a gallery of `images` thumbnails.
std::filesystem::path WriteSemanticMetricsWithGallery(const TempDir& dir, int images) {
  SemanticConfusion confusion(2);
  SemanticGallery gallery(2, 255, 200);
  for (int i = 0; i < images; ++i) {
    cv::Mat gt(30, 40, CV_8UC1, cv::Scalar(0)), pred(30, 40, CV_8UC1, cv::Scalar(0));
    gt(cv::Rect(0, 0, 20, 30)).setTo(1);
    pred(cv::Rect(0, 0, 1 + i % 39, 30)).setTo(1);
    confusion.Add(gt.data, pred.data, gt.total());
    gallery.Add("image <" + std::to_string(i) + ">", gt, pred,
                [] { return cv::Mat(30, 40, CV_8UC3, cv::Scalar(40, 120, 200)); });
  }
  nlohmann::json j = nlohmann::json::parse(SemanticMetricsToJson(ComputeSemanticMetrics(confusion), {"bg", "bottle"}));
  const nlohmann::json g = GalleryToJson(gallery.scores(), gallery.Worst());
  j["image_scores"] = g["image_scores"];
  j["gallery"] = g["gallery"];
  j["gallery_ranked_by"] = g["gallery_ranked_by"];
  WriteFileAtomic(dir / "metrics.json", j.dump());
  return dir / "metrics.json";
}

TEST(Report, LoadsNothingFromOutsideThePage) {
  TempDir dir;
  const std::string html = RenderReport({LoadRun(WriteTrainDir(dir, "run", 20, 0.5)),
                                         LoadRun(WriteSemanticMetricsWithGallery(dir, 3))});
  std::string without_namespace = html;
  for (size_t at; (at = without_namespace.find("xmlns=\"http://www.w3.org/2000/svg\"")) != std::string::npos;) {
    without_namespace.erase(at, 34);
  }
  for (const char* reference : {"http:", "https:", "href=", "@import", "url("}) {
    EXPECT_EQ(without_namespace.find(reference), std::string::npos) << reference;
  }
  // The gallery's pictures are inside the page.
  const auto sources = Attributes(html, "class=\"thumb\"", "src");
  EXPECT_EQ(sources.size(), 3u);
  for (const auto& src : sources) EXPECT_EQ(src.rfind("data:image/jpeg;base64,", 0), 0u);
  EXPECT_EQ(testing::CountOccurrences(html, "src="), 3u);
}

TEST(Report, GalleryShowsTheWorstImagesOfMetricsJsonWorstFirst) {
  TempDir dir;
  const std::filesystem::path path = WriteSemanticMetricsWithGallery(dir, 5);
  const nlohmann::json metrics = nlohmann::json::parse(ReadFile(path));
  const std::string html = RenderReport({LoadRun(path)});
  ASSERT_NE(html.find("<section id=\"predictions\">"), std::string::npos);
  size_t at = 0;
  double previous = -1;
  for (const auto& g : metrics["gallery"]) {
    const std::string caption = "<figcaption>" + XmlEscape(g["id"].get<std::string>()) + " &middot; IoU " +
                                FormatNumber(g["mean_iou"].get<double>());
    const size_t found = html.find(caption);
    ASSERT_NE(found, std::string::npos) << caption;
    EXPECT_GT(found, at) << "in metrics.json's order";
    at = found;
    EXPECT_GE(g["mean_iou"].get<double>(), previous) << "worst first";
    previous = g["mean_iou"].get<double>();
  }
  EXPECT_EQ(Attributes(html, "class=\"thumb\"", "src").size(), 5u);
  // The spread of per-image IoU: 5 images in the bins.
  EXPECT_NE(html.find("Images per IoU bin (5 images)"), std::string::npos);
}

TEST(Report, DetectionGalleryIsRankedByF1WithTheCountsInTheCaption) {
  TempDir dir;
  DetectionGallery gallery(5);
  std::vector<CocoAnnotation> gt(1), dt(1);
  gt[0].category_id = dt[0].category_id = 1;
  gt[0].bbox = {10, 10, 30, 30};
  dt[0].bbox = {60, 60, 30, 30};  // Misses: F1 0.
  dt[0].score = 0.9;
  gallery.Add("a.jpg", {&gt[0]}, {&dt[0]}, 100, 100, nullptr);
  gallery.Add("b.jpg", {&gt[0]}, {&gt[0]}, 100, 100, nullptr);  // gt as its own detection: no score, not counted.
  const nlohmann::json g = GalleryToJson(gallery.scores(), gallery.Worst());
  WriteFileAtomic(dir / "metrics.json",
                  nlohmann::json({{"image_scores", g["image_scores"]}, {"gallery", g["gallery"]}, {"gallery_ranked_by", g["gallery_ranked_by"]},
                                  {"bbox", CocoEvalResultToJson(CocoEvalResult{})}})
                      .dump());
  const std::string html = RenderReport({LoadRun(dir / "metrics.json")});
  EXPECT_NE(html.find("Images per F1 bin (2 images)"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>a.jpg &middot; F1 0 &middot; false 1 &middot; missed 1 &middot; found 0</figcaption>"),
            std::string::npos);
  EXPECT_LT(html.find("a.jpg &middot;"), html.find("b.jpg &middot;")) << "worst first";
}

TEST(Report, GalleryRefusesThumbnailsThatAreNotInlineJpegs) {
  TempDir dir;
  nlohmann::json j = nlohmann::json::parse(ReadFile(WriteSemanticMetricsWithGallery(dir, 2)));
  j["gallery"][0]["thumbnail"] = "https://example.com/x.jpg";
  j["gallery"][1]["thumbnail"] = "data:image/jpeg;base64,AAAA\" onerror=\"alert(1)";
  WriteFileAtomic(dir / "metrics.json", j.dump());
  const std::string html = RenderReport({LoadRun(dir / "metrics.json")});
  EXPECT_EQ(html.find("example.com"), std::string::npos);
  EXPECT_EQ(html.find("onerror"), std::string::npos);
  EXPECT_EQ(Attributes(html, "class=\"thumb\"", "src").size(), 0u);
}

TEST(Report, TwoHundredGalleryImagesAndTwentyThousandStepsStayFastAndSmall) {
  TempDir dir;
  const std::filesystem::path train_dir = WriteTrainDir(dir, "long", 20000, 0.8);
  // Real thumbnails of 640x480 photos with noise (JPEG cannot shrink them to nothing).
  SemanticGallery gallery(2, 255, 200);
  cv::RNG rng(7);
  for (int i = 0; i < 220; ++i) {
    cv::Mat photo(480, 640, CV_8UC3);
    rng.fill(photo, cv::RNG::UNIFORM, 0, 255);
    cv::Mat gt(480, 640, CV_8UC1, cv::Scalar(0)), pred(480, 640, CV_8UC1, cv::Scalar(0));
    gt(cv::Rect(0, 0, 320, 480)).setTo(1);
    pred(cv::Rect(0, 0, 1 + i, 480)).setTo(1);
    gallery.Add("img" + std::to_string(i), gt, pred, [&] { return photo; });
  }
  const nlohmann::json g = GalleryToJson(gallery.scores(), gallery.Worst());
  WriteFileAtomic(dir / "metrics.json", nlohmann::json({{"mean_iou", 0.5}, {"per_class", nlohmann::json::array()},
                                                        {"image_scores", g["image_scores"]}, {"gallery", g["gallery"]},
                                                        {"gallery_ranked_by", "mean_iou"}}).dump());
  // What `segtune report` does: read both runs, render.
  const auto start = std::chrono::steady_clock::now();
  const std::string html = RenderReport({LoadRun(train_dir), LoadRun(dir / "metrics.json")});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(Attributes(html, "class=\"thumb\"", "src").size(), 200u);
  EXPECT_LT(seconds, 2.0);
  EXPECT_LT(html.size(), 15u * 1024 * 1024);
  std::printf("measured report 20000 steps + 200 gallery images: %.3f s, %.2f MB\n", seconds, html.size() / 1048576.0);
}

TEST(Report, NamesFromTheInputAreEscaped) {
  TempDir dir;
  const RunData run = LoadRun(WriteTrainDir(dir, "<img src=x onerror=\"alert(1)\">", 3, 0.5));
  const std::string html = RenderReport({run});
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"), std::string::npos);
}

TEST(Report, ATwentyThousandStepRunRendersFastAndSmall) {
  TempDir dir;
  const RunData run = LoadRun(WriteTrainDir(dir, "long", 20000, 0.8));
  const auto start = std::chrono::steady_clock::now();
  const std::string html = RenderReport({run});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
  EXPECT_LT(html.size(), 2u * 1024 * 1024);
  // Thinned, but the last point is still the last row.
  for (const std::string& points : Attributes(html, "class=\"series\"", "points")) {
    EXPECT_LE(testing::CountOccurrences(points, ","), kMaxPointsPerSeries);
  }
  EXPECT_EQ(Attributes(html, "class=\"series\"", "data-last-x")[0], "200000");
}

TEST(LineChartSvg, AxisTicksAreRoundNumbers) {
  const std::string svg = LineChartSvg({"loss", "step", "loss", {{"a", {{10, 1.9776}, {2000, 0.2172}}}}});
  for (const char* tick : {">500<", ">1000<", ">1500<", ">2000<", ">0.5<", ">1<", ">1.5<"}) {
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  }
  EXPECT_EQ(svg.find(">507.5<"), std::string::npos);
}

TEST(Report, DatasetSectionCountsTheRecords) {
  TempDir dir;
  {
    TFRecordWriter writer(dir / "train.record-00000-of-00002");
    for (int i = 0; i < 3; ++i) {
      ObjectDetectionExample od;
      od.encoded = "not decoded by records info";
      od.format = "jpeg";
      od.height = 40 + 10 * i;
      od.width = 60;
      for (int k = 0; k <= i; ++k) {  // Image i holds i+1 objects: bottle, can, bottle.
        od.boxes.push_back({0.1f, 0.1f, 0.5f, 0.5f});
        od.class_text.push_back(k % 2 == 0 ? "bottle" : "can");
        od.class_label.push_back(k % 2 == 0 ? 1 : 2);
        od.is_crowd.push_back(0);
      }
      writer.Write(ToExample(od).SerializeAsString());
    }
    writer.Close();
    TFRecordWriter(dir / "train.record-00001-of-00002").Close();
  }
  const RunData run = LoadRun((dir / "train.record-*").string());  // A shard pattern, as other verbs take.
  ASSERT_TRUE(run.records.has_value());
  const std::string html = RenderReport({run});
  EXPECT_NE(html.find("<td>images (records)</td><td>3</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>objects</td><td>6</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>files</td><td>2</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>image height min / mean / max</td><td>40 / 50 / 60</td>"), std::string::npos);
  // Class balance: bottle 4 (1 + 1 + 2), can 2.
  EXPECT_EQ(Attributes(html, "class=\"bar\"", "data-label"), (std::vector<std::string>{"1 bottle", "2 can"}));
  EXPECT_EQ(Attributes(html, "class=\"bar\"", "data-value"), (std::vector<std::string>{"4", "2"}));
}

TEST(Report, UnknownInputIsAClearError) {
  TempDir dir;
  WriteFileAtomic(dir / "other.json", R"({"hello": 1})");
  EXPECT_THROW(LoadRun(dir / "other.json"), FormatError);
  std::filesystem::create_directories(dir / "empty");
  EXPECT_THROW(LoadRun(dir / "empty"), UsageError);
  EXPECT_THROW(LoadRun(dir / "missing"), IoError);
  WriteFileAtomic(dir / "photo.png", "\x89PNG\r\n\x1a\n not a record");
  EXPECT_THROW(LoadRun(dir / "photo.png"), FormatError);
}

TEST(ReportCli, WritesThePageAndNeverReplacesAnotherFile) {
  TempDir dir;
  WriteTrainDir(dir, "run", 5, 0.5);
  const std::string out = (dir / "report.html").string();
  auto r = testing::RunCommand(std::string(SEGTUNE_BINARY) + " report " + (dir / "run").string() + " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(ReadFile(out).find("data-series=\"" + (dir / "run").string() + "\""), std::string::npos);
  r = testing::RunCommand(std::string(SEGTUNE_BINARY) + " report " + (dir / "run").string() + " -o " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--overwrite"), std::string::npos) << r.output;
  r = testing::RunCommand(std::string(SEGTUNE_BINARY) + " report " + (dir / "run").string() + " -o " + out +
                          " --overwrite");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  WriteFileAtomic(dir / "notes.html", "<html>my notes</html>");
  r = testing::RunCommand(std::string(SEGTUNE_BINARY) + " report " + (dir / "run").string() + " -o " +
                          (dir / "notes.html").string() + " --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(ReadFile(dir / "notes.html"), "<html>my notes</html>");
}

}  // namespace
}  // namespace segtune::report
