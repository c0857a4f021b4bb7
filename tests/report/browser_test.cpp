// The report as a person sees it: headless Chromium opens report.html from disk with the network
// cut off, and the page must render (charts in the DOM, a screenshot that is not blank) without any
// console message (the page has no script, so any message is a failed load or a parse error).
#include <gtest/gtest.h>

#include <cstdlib>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/evaluation/semantic_gallery.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::TempDir;

std::string FindChromium() {
  if (const char* env = std::getenv("SEGTUNE_CHROMIUM")) return env;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (testing::RunCommand(std::string("command -v ") + name).exit_code == 0) return name;
  }
  return "";
}

// Runs Chromium headless on `page` with every host unresolvable; `mode` is --dump-dom or --screenshot=F.
testing::CommandResult Chromium(const std::string& chromium, const std::filesystem::path& page, const std::string& mode,
                                const std::filesystem::path& profile) {
  return testing::RunCommand("timeout 120 " + chromium +
                             " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                             " --window-size=1200,1600"
                             " --host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0"
                             " --user-data-dir=" + profile.string() + " " + mode + " file://" + page.string());
}

TEST(ReportInBrowser, RendersFromDiskOfflineWithChartsAndNoConsoleMessages) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") {
      FAIL() << "chromium is missing: `make test` installs it (TEST_PACKAGES); CI must run this test";
    }
    GTEST_SKIP() << "chromium not installed (make test installs it)";
  }
  TempDir dir;
  std::filesystem::create_directories(dir / "run");
  std::string csv = "step,loss,learning_rate,images_per_second,eval_miou,eval_pixel_accuracy\n";
  for (int step = 10; step <= 200; step += 10) {
    csv += std::to_string(step) + "," + std::to_string(2.0 / (1 + step / 50.0)) + ",0.01,9.5," +
           (step % 50 == 0 ? std::to_string(step / 400.0) + "," + std::to_string(step / 300.0) : ",") + "\n";
  }
  WriteFileAtomic(dir / "run" / "metrics.csv", csv);
  nlohmann::json metrics = nlohmann::json::parse(R"({"mean_iou": 0.5, "pixel_accuracy": 0.8, "mean_class_accuracy": 0.6,
    "frequency_weighted_iou": 0.7, "per_class": [{"id": 0, "name": "background", "iou": 0.75, "accuracy": 0.9},
    {"id": 1, "name": "bottle", "iou": 0.25, "accuracy": 0.3}], "confusion_matrix": [[90, 10], [70, 30]]})");
  // A gallery of three real thumbnails, as `segtune eval` makes them.
  SemanticGallery gallery(2, 255, 3);
  for (int i = 0; i < 3; ++i) {
    cv::Mat gt(60, 80, CV_8UC1, cv::Scalar(0)), pred(60, 80, CV_8UC1, cv::Scalar(0));
    gt(cv::Rect(0, 0, 40, 60)).setTo(1);
    pred(cv::Rect(0, 0, 10 + 10 * i, 60)).setTo(1);
    gallery.Add("photo" + std::to_string(i) + ".jpg", gt, pred, [] { return cv::Mat(60, 80, CV_8UC3, cv::Scalar(30, 160, 90)); });
  }
  const nlohmann::json shown = GalleryToJson(gallery.scores(), gallery.Worst());
  metrics["image_scores"] = shown["image_scores"];
  metrics["gallery"] = shown["gallery"];
  metrics["gallery_ranked_by"] = shown["gallery_ranked_by"];
  WriteFileAtomic(dir / "metrics.json", metrics.dump());
  const auto made = testing::RunCommand(std::string(SEGTUNE_BINARY) + " report " + (dir / "run").string() + " " +
                                        (dir / "metrics.json").string() + " -o " + (dir / "report.html").string());
  ASSERT_EQ(made.exit_code, 0) << made.output;

  const auto dom = Chromium(chromium, dir / "report.html", "--dump-dom", dir / "profile");
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  EXPECT_EQ(dom.output.find("CONSOLE"), std::string::npos) << dom.output;
  // The parsed document: 5 curve charts + 3 bar charts (IoU, accuracy, images per IoU bin) + 1 heatmap,
  // each curve chart with its series.
  EXPECT_EQ(testing::CountOccurrences(dom.output, "<svg class=\"chart "), 9u) << dom.output;
  EXPECT_EQ(testing::CountOccurrences(dom.output, "<polyline class=\"series\""), 5u);
  EXPECT_EQ(testing::CountOccurrences(dom.output, "<rect class=\"bar\""), 2u + 2u + 10u);
  EXPECT_EQ(testing::CountOccurrences(dom.output, "<rect class=\"cell\""), 4u);
  // The gallery's thumbnails decoded in the browser: the page's script wrote each one's natural size
  // ([ground truth | 4 px | prediction] = 164 x 60), and none is marked broken.
  EXPECT_EQ(testing::CountOccurrences(dom.output, "data-natural-size=\"164x60\""), 3u) << dom.output.substr(0, 2000);
  EXPECT_EQ(testing::CountOccurrences(dom.output, "thumb broken"), 0u);

  const std::filesystem::path shot = dir / "shot.png";
  const auto rendered = Chromium(chromium, dir / "report.html", "--screenshot=" + shot.string(), dir / "profile");
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  EXPECT_EQ(rendered.output.find("CONSOLE"), std::string::npos) << rendered.output;
  const cv::Mat image = cv::imread(shot.string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(image.empty()) << "no screenshot: " << rendered.output;
  EXPECT_EQ(image.cols, 1200);
  // Text, axes and curves: a blank or failed page is (nearly) all one colour.
  const double dark_share = cv::countNonZero(image < 128) / static_cast<double>(image.total());
  EXPECT_GT(dark_share, 0.005);
}

}  // namespace
}  // namespace segtune
