// Roboflow COCO exports and CreateML JSON (data/convert/roboflow_format.cpp, createml_format.cpp):
// splits from folder names, the dataset super-category dropped, ids renumbered across splits;
// CreateML's centre boxes, round trip, malformed input and auto-detection against plain COCO.
// Fixtures: tests/data/fixtures/convert/{roboflow,createml}/.
#include <gtest/gtest.h>

#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/convert.h"
#include "convert_test_util.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

fs::path Fixture(const std::string& name) {
  return segtune::testing::SourcePath("tests/data/fixtures/convert/" + name);
}

using segtune::testing::Warned;

TEST(Roboflow, ReadsSplitsRenumbersIdsAndDropsTheDatasetCategory) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = segtune::ReadAnnotations(Fixture("roboflow"), "roboflow", {}, &report);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[0].file_name, "train/a_jpg.rf.0f1e2d3c.jpg");
  EXPECT_EQ(d.coco.images[2].file_name, "valid/c_jpg.rf.11223344.jpg");
  EXPECT_EQ(d.images_dir, Fixture("roboflow"));
  EXPECT_EQ(d.coco.images[0].id.text, "1");
  EXPECT_EQ(d.coco.images[2].id.text, "3") << "ids restart at 0 per split; renumbered to stay unique";
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  EXPECT_EQ(d.subset_of_image.at("2"), "train");
  EXPECT_EQ(d.subset_of_image.at("3"), "val") << "valid/ is the val split";
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(d.coco.categories[0].name, "bottle");
  EXPECT_EQ(d.coco.categories[1].name, "can");
  EXPECT_TRUE(Warned(report, "category 0 'bottles-3x9k': dropped: Roboflow's dataset-name super-category"));
  ASSERT_EQ(d.coco.annotations.size(), 3u);
  EXPECT_EQ(d.coco.annotations[2].image_id.text, "3");
  EXPECT_EQ(d.coco.annotations[2].id, 3);
  EXPECT_EQ(d.coco.annotations[1].category_id, 2) << "class ids are kept";
}

TEST(Roboflow, SplitsThatDisagreeOnACategoryNameAreRefused) {
  TempDir dir;
  fs::copy(Fixture("roboflow"), dir.path(), fs::copy_options::recursive);
  std::string valid = segtune::ReadFile(dir / "valid" / "_annotations.coco.json");
  valid.replace(valid.find("\"name\":\"can\""), 12, "\"name\":\"tin\"");
  segtune::WriteFileAtomic(dir / "valid" / "_annotations.coco.json", valid);
  segtune::ConversionReport report;
  try {
    segtune::ReadAnnotations(dir.path(), "roboflow", {}, &report);
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("valid/_annotations.coco.json: categories: id 2: named 'tin'"),
              std::string::npos) << e.what();
  }
}

TEST(Roboflow, AutoDetectPrefersRoboflowOverCocoOnlyForItsLayout) {
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("roboflow")).name, "roboflow");
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("roboflow/train/_annotations.coco.json")).name, "roboflow");
  TempDir dir;
  fs::copy_file(Fixture("roboflow/train/_annotations.coco.json"), dir / "instances.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "instances.json").name, "coco") << "plain COCO stays coco";
  EXPECT_EQ(segtune::FindAnnotationFormat("roboflow").detect(dir.path()), 0);
}

TEST(Roboflow, HostileFileNamesNeverWriteOutsideTheOutput) {
  TempDir dir;
  fs::create_directories(dir / "in" / "train");
  std::string text = segtune::ReadFile(Fixture("roboflow/train/_annotations.coco.json"));
  text.replace(text.find("a_jpg.rf.0f1e2d3c.jpg"), 21, "../../../../evil.jpg");
  text.replace(text.find("b_jpg.rf.9a8b7c6d.jpg"), 21, "/tmp/segtune-evil.jpg");
  segtune::WriteFileAtomic(dir / "in" / "train" / "_annotations.coco.json", text);
  for (const std::string to : {"labelme", "createml", "labelstudio"}) {
    segtune::ConvertOptions options;
    options.input = dir / "in";
    options.output = dir / ("out-" + to);
    options.to = to;
    options.check_images = false;
    EXPECT_EQ(segtune::ConvertAnnotations(options).from, "roboflow") << to;
  }
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"in", "out-labelme", "out-createml", "out-labelstudio"}));
  std::set<std::string> written;
  for (const auto& e : fs::directory_iterator(dir / "out-labelme")) written.insert(e.path().filename().string());
  EXPECT_EQ(written, (std::set<std::string>{"evil.json", "segtune-evil.json"}));
  EXPECT_FALSE(fs::exists("/tmp/segtune-evil.json"));
}

TEST(CreateMl, ReadsCentreBoxesAsTopLeft) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = segtune::ReadAnnotations(Fixture("createml/annotations.json"), "createml", {}, &report);
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[0].file_name, "shelf.jpg");
  ASSERT_EQ(d.coco.annotations.size(), 2u);
  EXPECT_EQ(d.coco.annotations[0].bbox, (std::array<double, 4>{15, 10, 10, 40}));
  EXPECT_EQ(d.coco.annotations[1].bbox, (std::array<double, 4>{46, 8, 9, 8}));
  EXPECT_EQ(d.coco.annotations[1].category_id, 2);
  EXPECT_EQ(d.coco.categories[1].name, "can");
}

TEST(CreateMl, RoundTripThroughCocoAndPolygonsKeepTheirBoxes) {
  TempDir dir;
  segtune::ConversionReport report;
  const segtune::LabeledDataset original = segtune::ReadAnnotations(Fixture("createml/annotations.json"), "createml", {}, &report);
  segtune::SaveCoco(original.coco, dir / "coco.json");
  segtune::LabeledDataset via_coco;
  via_coco.coco = segtune::LoadCoco(dir / "coco.json");
  via_coco.coco.annotations[0].segmentation.polygons = {{15, 10, 25, 10, 25, 50}};
  const segtune::AnnotationFormat& createml = segtune::FindAnnotationFormat("createml");
  createml.write(via_coco, dir / "out.json", {}, &report);
  EXPECT_TRUE(Warned(report, "1 polygon/mask shape(s) written as their boxes"));
  EXPECT_EQ(nlohmann::json::parse(segtune::ReadFile(dir / "out.json")),
            nlohmann::json::parse(segtune::ReadFile(Fixture("createml/annotations.json"))));
}

// Create ML's own documentation spells the keys "imagefilename" and "annotation" (MLObjectDetector.DataSource).
TEST(CreateMl, ReadsAndDetectsAppleDocumentedKeys) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "apple.json",
                           R"([{"imagefilename": "cat and dog.png", "annotation": [)"
                           R"({"label": "cat", "coordinates": {"y": 22.0, "x": 13.9, "height": 40.0, "width": 20.0}}]}])");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "apple.json").name, "createml");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = segtune::ReadAnnotations(dir / "apple.json", "createml", {}, &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].file_name, "cat and dog.png");
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  EXPECT_DOUBLE_EQ(d.coco.annotations[0].bbox[0], 3.9);
  EXPECT_DOUBLE_EQ(d.coco.annotations[0].bbox[1], 2.0);
}

TEST(CreateMl, MalformedInputNamesFileAndElement) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "bad.json", R"([{"image": "a.jpg", "annotations": [
    {"label": "x", "coordinates": {"x": 1, "y": 1, "width": 2, "height": 2}},
    {"label": "x", "coordinates": {"x": 1, "y": 1, "width": "2", "height": 2}}]}])");
  segtune::ConversionReport report;
  try {
    segtune::ReadAnnotations(dir / "bad.json", "createml", {}, &report);
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: [0] ('a.jpg'): annotations[1].coordinates.width: expected a number"),
              std::string::npos) << e.what();
  }
}

TEST(CreateMl, AutoDetectPicksCreateMlForItsFileOnly) {
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("createml/annotations.json")).name, "createml");
  EXPECT_EQ(segtune::FindAnnotationFormat("createml").detect(Fixture("labelstudio/export.json")), 0);
  EXPECT_EQ(segtune::FindAnnotationFormat("createml").detect(Fixture("roboflow/train/_annotations.coco.json")), 0);
}

}  // namespace
