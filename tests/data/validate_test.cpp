#include "segtune/data/validate.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "test_util.h"

namespace fs = std::filesystem;
using segtune::CocoAnnotation;
using segtune::CocoDataset;
using segtune::CocoProblem;
using segtune::testing::TempDir;

namespace {

segtune::CocoImage Image(const std::string& id, const std::string& file, int w, int h) {
  segtune::CocoImage image;
  image.id = {id, true};
  image.file_name = file;
  image.width = w, image.height = h;
  return image;
}

CocoAnnotation Rect(int64_t id, const std::string& image, int64_t category, double x, double y, double w, double h) {
  CocoAnnotation a;
  a.id = id;
  a.image_id = {image, true};
  a.category_id = category;
  a.segmentation.polygons = {{x, y, x + w, y, x + w, y + h, x, y + h}};
  a.bbox = {x, y, w, h};
  a.area = w * h;
  return a;
}

// One instance of every annotation-level problem, on 100x80 and 50x50 images.
CocoDataset ProblemDataset() {
  CocoDataset d;
  d.images = {Image("1", "a.png", 100, 80), Image("2", "b.png", 50, 50), Image("2", "b_again.png", 50, 50)};
  d.categories = {{1, "bottle", "", {}}, {1, "bottle again", "", {}}};
  d.annotations.push_back(Rect(1, "1", 1, 10, 10, 10, 10));          // Fine.
  d.annotations.push_back(Rect(2, "1", 1, 90, 10, 20, 10));          // Beyond x = 100.
  CocoAnnotation degenerate = Rect(3, "2", 1, 5, 5, 5, 5);
  degenerate.segmentation.polygons = {{5, 5, 10, 10}};                // Two points.
  d.annotations.push_back(degenerate);
  CocoAnnotation mismatch = Rect(4, "1", 1, 10, 40, 10, 10);
  mismatch.bbox = {60, 5, 10, 10};
  d.annotations.push_back(mismatch);
  CocoAnnotation flipped = Rect(5, "1", 1, 30, 10, 10, 10);
  flipped.bbox = {30, 80 - 10 - 10, 10, 10};                          // y' = H - y - h.
  d.annotations.push_back(flipped);
  d.annotations.push_back(Rect(6, "1", 9, 1, 1, 5, 5));              // Unknown category.
  d.annotations.push_back(Rect(7, "77", 1, 1, 1, 5, 5));             // Unknown image.
  d.annotations.push_back(Rect(1, "2", 1, 20, 20, 5, 5));            // Duplicate id 1.
  return d;
}

int Count(const segtune::ValidationReport& r, CocoProblem p) {
  auto it = r.findings.find(p);
  return it == r.findings.end() ? 0 : it->second.count;
}

}  // namespace

TEST(Validate, FindsEachAnnotationProblemKind) {
  const auto r = segtune::ValidateCoco(ProblemDataset(), "");
  EXPECT_EQ(Count(r, CocoProblem::kDuplicateImageId), 1);
  EXPECT_EQ(Count(r, CocoProblem::kDuplicateCategoryId), 1);
  EXPECT_EQ(Count(r, CocoProblem::kDuplicateAnnotationId), 1);
  EXPECT_EQ(Count(r, CocoProblem::kOutOfBounds), 1);
  EXPECT_EQ(Count(r, CocoProblem::kDegenerateGeometry), 1);
  EXPECT_EQ(Count(r, CocoProblem::kBboxMismatch), 1);
  EXPECT_EQ(Count(r, CocoProblem::kYFlippedBbox), 1);
  EXPECT_EQ(Count(r, CocoProblem::kUnknownCategory), 1);
  EXPECT_EQ(Count(r, CocoProblem::kUnknownImage), 1);
  EXPECT_FALSE(r.images_checked);
  const auto& example = r.findings.at(CocoProblem::kYFlippedBbox).examples.at(0);
  EXPECT_NE(example.find("annotations[4] (id 5, image 1)"), std::string::npos) << example;
}

TEST(Validate, KeepsAtMostFiveExamplesButCountsAll) {
  CocoDataset d;
  d.images = {Image("1", "a.png", 10, 10)};
  d.categories = {{1, "c", "", {}}};
  for (int i = 0; i < 12; ++i) d.annotations.push_back(Rect(i + 1, "1", 1, 5, 5, 20, 20));
  const auto r = segtune::ValidateCoco(d, "");
  EXPECT_EQ(r.findings.at(CocoProblem::kOutOfBounds).count, 12);
  EXPECT_EQ(r.findings.at(CocoProblem::kOutOfBounds).examples.size(), 5u);
}

TEST(Validate, ChecksImageFilesWhenGivenADirectory) {
  TempDir dir;
  cv::imwrite((dir / "good.png").string(), cv::Mat(80, 100, CV_8UC3, cv::Scalar(1, 2, 3)));
  cv::imwrite((dir / "small.png").string(), cv::Mat(20, 30, CV_8UC3, cv::Scalar(1, 2, 3)));
  segtune::WriteFileAtomic(dir / "broken.png", "not a png");
  CocoDataset d;
  d.images = {Image("1", "good.png", 100, 80), Image("2", "small.png", 100, 80), Image("3", "broken.png", 5, 5),
              Image("4", "gone.png", 5, 5)};
  const auto r = segtune::ValidateCoco(d, dir.path());
  EXPECT_TRUE(r.images_checked);
  EXPECT_EQ(Count(r, CocoProblem::kImageSizeMismatch), 1);
  EXPECT_EQ(Count(r, CocoProblem::kUnreadableImage), 1);
  EXPECT_EQ(Count(r, CocoProblem::kMissingImage), 1);
  EXPECT_EQ(r.total(), 3);

  std::vector<std::string> changes;
  const CocoDataset fixed = segtune::FixCoco(d, dir.path(), &changes);
  EXPECT_EQ(fixed.images[1].width, 30);
  EXPECT_EQ(fixed.images[1].height, 20);
  const auto after = segtune::ValidateCoco(fixed, dir.path());
  EXPECT_EQ(Count(after, CocoProblem::kImageSizeMismatch), 0);
  EXPECT_EQ(after.total(), 2);  // Missing and unreadable files cannot be fixed.
}

TEST(Validate, FixedCopyValidatesClean) {
  const CocoDataset d = ProblemDataset();
  std::vector<std::string> changes;
  const CocoDataset fixed = segtune::FixCoco(d, "", &changes);
  const auto r = segtune::ValidateCoco(fixed, "");
  EXPECT_EQ(r.total(), 0) << (r.findings.empty() ? "" : r.findings.begin()->second.examples.at(0));
  EXPECT_EQ(fixed.images.size(), 2u);
  EXPECT_EQ(fixed.categories.size(), 1u);
  // Dropped: unknown category, unknown image, the two-point polygon. Kept and repaired: the rest.
  EXPECT_EQ(fixed.annotations.size(), 5u);
  for (const auto& a : fixed.annotations)
    if (a.id == 5) EXPECT_EQ(a.bbox, (std::array<double, 4>{30, 10, 10, 10}));  // Un-flipped.
  for (const auto& a : fixed.annotations)
    if (a.id == 2) EXPECT_EQ(a.bbox, (std::array<double, 4>{90, 10, 10, 10}));  // Clipped at x = 100.
  std::string all;
  for (const auto& c : changes) all += c + "\n";
  EXPECT_NE(all.find("annotations dropped: unknown category: 1"), std::string::npos) << all;
  EXPECT_NE(all.find("annotations dropped: unknown image: 1"), std::string::npos) << all;
  EXPECT_NE(all.find("duplicate annotation ids renumbered: 1"), std::string::npos) << all;
}

// The verb's back-end returns what it found and changed (the CLI prints it and picks the exit code).
TEST(Validate, RunValidateReturnsTheReportAndWhatTheFixChanged) {
  TempDir dir;
  segtune::SaveCoco(ProblemDataset(), dir / "bad.json");
  segtune::ValidateOptions options;
  options.input = dir / "bad.json";
  options.fix = true;
  options.output = dir / "fixed.json";
  const segtune::ValidateResult result = segtune::RunValidate(options);
  EXPECT_EQ(result.input, dir / "bad.json");
  EXPECT_EQ(result.images, 3u);
  EXPECT_EQ(result.categories, 2u);
  EXPECT_EQ(result.annotations, 8u);
  EXPECT_EQ(result.report.total(), 9);  // One of each annotation-level kind.
  EXPECT_EQ(Count(result.report, CocoProblem::kYFlippedBbox), 1);
  ASSERT_TRUE(result.fix.has_value());
  EXPECT_EQ(result.fix->output, dir / "fixed.json");
  EXPECT_EQ(result.fix->remaining.total(), 0);
  std::string changes;
  for (const auto& c : result.fix->changes) changes += c + "\n";
  EXPECT_NE(changes.find("duplicate annotation ids renumbered: 1"), std::string::npos) << changes;
  EXPECT_EQ(segtune::LoadCoco(dir / "fixed.json").annotations.size(), 5u);

  const std::string text = segtune::FormatValidateResult(result);
  EXPECT_EQ(text.rfind((dir / "bad.json").string() + ": 3 images, 2 categories, 8 annotations\n", 0), 0u) << text;
  EXPECT_NE(text.find("error: y-flipped bboxes (old Labelbox COCO export: y' = H - y - h): 1\n"
                      "  annotations[4] (id 5, image 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("note: image files not checked (pass --images-dir DIR)\n9 problems found\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("fixed: duplicate annotation ids renumbered: 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("still"), std::string::npos) << "the fixed copy is clean: " << text;
  EXPECT_EQ(text.find("wrote"), std::string::npos) << "the CLI says where outputs went: " << text;
}

// Without --fix there is no fix part, and a clean file says so.
TEST(Validate, RunValidateWithoutFixReportsOnly) {
  TempDir dir;
  CocoDataset d;
  d.images = {Image("1", "a.png", 100, 80)};
  d.categories = {{1, "bottle", "", {}}};
  d.annotations = {Rect(1, "1", 1, 10, 10, 10, 10)};
  segtune::SaveCoco(d, dir / "good.json");
  segtune::ValidateOptions options;
  options.input = dir / "good.json";
  const segtune::ValidateResult result = segtune::RunValidate(options);
  EXPECT_EQ(result.report.total(), 0);
  EXPECT_FALSE(result.fix.has_value());
  EXPECT_EQ(segtune::FormatValidateResult(result),
            (dir / "good.json").string() + ": 1 images, 1 categories, 1 annotations\n"
            "note: image files not checked (pass --images-dir DIR)\nno problems found\n");
}

// A missing image cannot be fixed: the fix part says what the fixed copy still has.
TEST(Validate, RunValidateCountsWhatTheFixCannotRepair) {
  TempDir dir;
  CocoDataset d;
  d.images = {Image("1", "gone.png", 100, 80)};
  d.categories = {{1, "bottle", "", {}}};
  d.annotations = {Rect(1, "1", 1, 10, 10, 10, 10)};
  segtune::SaveCoco(d, dir / "in.json");
  segtune::ValidateOptions options;
  options.input = dir / "in.json";
  options.images_dir = dir.path();
  options.fix = true;
  options.output = dir / "fixed.json";
  const segtune::ValidateResult result = segtune::RunValidate(options);
  EXPECT_EQ(Count(result.report, CocoProblem::kMissingImage), 1);
  ASSERT_TRUE(result.fix.has_value());
  EXPECT_TRUE(result.fix->changes.empty());
  EXPECT_EQ(Count(result.fix->remaining, CocoProblem::kMissingImage), 1);
  const std::string text = segtune::FormatValidateResult(result);
  EXPECT_NE(text.find("1 problems found\nfixed: nothing to change\n"
                      "still 1 problems in the fixed copy (missing/unreadable images are not fixed)\n"),
            std::string::npos)
      << text;
}

TEST(Validate, CliExitsOneOnProblemsAndTheFixedFileValidatesClean) {
  TempDir dir;
  segtune::SaveCoco(ProblemDataset(), dir / "bad.json");
  const auto bad = segtune::testing::RunSegtune("validate '" + (dir / "bad.json").string() + "' --fix -o '" +
                                                (dir / "fixed.json").string() + "'");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("y-flipped bboxes"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("fixed: "), std::string::npos) << bad.output;
  const auto good = segtune::testing::RunSegtune("validate '" + (dir / "fixed.json").string() + "'");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("no problems found"), std::string::npos) << good.output;
}
