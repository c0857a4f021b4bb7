// Label Studio JSON and JSON-MIN (data/convert/labelstudio*.cpp): percent coordinates, rotated
// rectangles, brush RLE, predictions, image references, round trips through COCO, malformed input,
// hostile image names and auto-detection. Fixtures: tests/data/fixtures/convert/labelstudio/.
#include <gtest/gtest.h>

#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/brush_rle.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/labelstudio.h"
#include "convert_test_util.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

fs::path Fixture(const std::string& name) {
  return segtune::testing::SourcePath("tests/data/fixtures/convert/labelstudio/" + name);
}

segtune::LabeledDataset Read(const fs::path& path, segtune::ConversionReport* report) {
  return segtune::ReadAnnotations(path, "labelstudio", {}, report);
}

using segtune::testing::Warned;

using segtune::testing::CategoryName;

void ExpectNear(const std::vector<double>& a, const std::vector<double>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << what << " [" << i << "]";
}

std::string ExpectThrowsFormat(const fs::path& path) {
  segtune::ConversionReport report;
  try {
    Read(path, &report);
  } catch (const segtune::FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a FormatError reading " << path;
  return "";
}

// A dataset of one 50x20 image with id 1 and one category.
segtune::LabeledDataset OneImageDataset(int64_t category_id, const std::string& file_name) {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({category_id, "bottle", "", {}});
  segtune::CocoImage image;
  image.id = {"1", true};
  image.file_name = file_name;
  image.width = 50, image.height = 20;
  d.coco.images.push_back(image);
  return d;
}

TEST(LabelStudio, ReadsExportPercentToPixelsRotatedBoxesBrushAndPredictions) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(Fixture("export.json"), &report);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[0].id.text, "7") << "task ids are kept";
  EXPECT_EQ(d.coco.images[0].file_name, "0a1b2c3d-street.png") << "uploads are stored under their prefixed name";
  EXPECT_EQ(d.coco.images[1].file_name, "site b/mask me.png") << "local files: the d= path, percent-decoded";
  EXPECT_EQ(d.coco.images[2].file_name, "https://example.com/photos/c.jpg");
  EXPECT_EQ(d.coco.images[0].width, 200);
  EXPECT_EQ(d.coco.images[0].height, 100);
  EXPECT_EQ(d.images_dir, Fixture("export.json").parent_path());

  ASSERT_EQ(d.coco.annotations.size(), 5u) << "keypoint and choices results are skipped";
  const auto& car = d.coco.annotations[0];
  EXPECT_EQ(CategoryName(d.coco, car.category_id), "car");
  EXPECT_EQ(car.category_id, 1) << "categories 1..N in first-seen order";
  EXPECT_TRUE(car.segmentation.empty());
  ExpectNear({car.bbox.begin(), car.bbox.end()}, {20, 20, 50, 30}, "x,y,w,h = percent of 200x100");

  // 10% x 20% at (50%, 50%) rotated 90 degrees clockwise about its top-left corner (100, 50).
  const auto& rotated = d.coco.annotations[1];
  ASSERT_EQ(rotated.segmentation.polygons.size(), 1u);
  ExpectNear(rotated.segmentation.polygons[0], {100, 50, 100, 70, 80, 70, 80, 50}, "rotated corners");
  ExpectNear({rotated.bbox.begin(), rotated.bbox.end()}, {80, 50, 20, 20}, "rotated box");

  const auto& person = d.coco.annotations[2];
  EXPECT_EQ(CategoryName(d.coco, person.category_id), "person");
  ASSERT_EQ(person.segmentation.polygons.size(), 1u);
  ExpectNear(person.segmentation.polygons[0], {120, 10, 160, 10, 160, 40, 120, 40}, "polygon");
  EXPECT_EQ(person.extra["labelstudio"]["from_name"], "poly");

  // make_brush.py: pixels x 2..5, y 1..4 and pixel (8, 6), which has only its alpha set.
  const auto& puddle = d.coco.annotations[3];
  ASSERT_TRUE(puddle.segmentation.rle.has_value());
  EXPECT_EQ(puddle.segmentation.rle->w, 10u);
  EXPECT_EQ(puddle.segmentation.rle->h, 8u);
  std::vector<uint8_t> mask(80);
  segtune::RleDecode(*puddle.segmentation.rle, mask.data());
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 10; ++x) {
      const bool in = (x >= 2 && x <= 5 && y >= 1 && y <= 4) || (x == 8 && y == 6);
      EXPECT_EQ(mask[y * 10 + x], in ? 1 : 0) << x << "," << y;
    }
  }
  EXPECT_EQ(puddle.area, 17);
  ExpectNear({puddle.bbox.begin(), puddle.bbox.end()}, {2, 1, 7, 6}, "brush box");

  const auto& predicted = d.coco.annotations[4];
  ASSERT_TRUE(predicted.score.has_value());
  EXPECT_DOUBLE_EQ(*predicted.score, 0.75);
  ExpectNear({predicted.bbox.begin(), predicted.bbox.end()}, {100, 30, 200, 120}, "prediction box");

  EXPECT_TRUE(Warned(report, "keypointlabels")) << "skipped types are reported";
  EXPECT_TRUE(Warned(report, "'choices'"));
  EXPECT_TRUE(Warned(report, "result[1].value: rectangle rotated 90"));
  EXPECT_TRUE(Warned(report, "1 cancelled annotation(s) ignored"));
  EXPECT_TRUE(Warned(report, "first prediction is read"));
}

TEST(LabelStudio, ReadsJsonMinRecords) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(Fixture("export_min.json"), &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].file_name, "0a1b2c3d-street.png");
  ASSERT_EQ(d.coco.annotations.size(), 2u);
  ExpectNear({d.coco.annotations[0].bbox.begin(), d.coco.annotations[0].bbox.end()}, {20, 20, 50, 30}, "box");
  EXPECT_EQ(CategoryName(d.coco, d.coco.annotations[1].category_id), "person");
  ExpectNear(d.coco.annotations[1].segmentation.polygons.at(0), {120, 10, 160, 10, 160, 40, 120, 40}, "polygon");
  EXPECT_EQ(d.coco.annotations[1].extra["labelstudio"]["from_name"], "poly") << "the JSON-MIN key is the control";
}

TEST(LabelStudio, BrushRleHasRlePacksLayoutAndRoundTrips) {
  std::vector<uint8_t> values(4 * 37 * 11, 0);
  for (size_t i = 100; i < 700; ++i) values[i] = 255;
  for (size_t i = 900; i < 940; ++i) values[i] = uint8_t(i);  // A literal stretch.
  const std::vector<uint8_t> bytes = segtune::EncodeBrushRle(values);
  // 32-bit count, big-endian bit order; then word size - 1 = 7 (5 bits) and run sizes 3,4,8,16 - 1.
  ASSERT_GT(bytes.size(), 6u);
  EXPECT_EQ((uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3]), values.size());
  EXPECT_EQ(bytes[4], 0b00111'001) << "word size 8, then the first run size (3 - 1 = 0b0010)";
  EXPECT_EQ(bytes[5], 0b0'0011'011) << "then 4 - 1 = 0b0011, 8 - 1 = 0b0111";
  EXPECT_EQ(segtune::DecodeBrushRle(bytes, values.size(), "t"), values);
  EXPECT_LT(bytes.size(), values.size() / 10) << "runs are packed";
  // The fixture's stream (written by make_brush.py with other run sizes) decodes to 10 x 8 RGBA.
  const std::vector<uint8_t> fixture = {0, 0, 1, 64, 56, 163, 222, 47, 0, 175, 255, 183, 0, 175, 255,
                                        183, 0, 175, 255, 183, 0, 175, 255, 203, 64, 0, 200, 197, 96, 0};
  const std::vector<uint8_t> rgba = segtune::DecodeBrushRle(fixture, 320, "t");
  ASSERT_EQ(rgba.size(), 320u);
  EXPECT_EQ(segtune::DecodeBrushRle(segtune::EncodeBrushRle(rgba), 320, "t"), rgba);
}

TEST(LabelStudio, RoundTripThroughCocoKeepsEveryShape) {
  TempDir dir;
  segtune::ConversionReport report;
  const segtune::LabeledDataset original = Read(Fixture("export.json"), &report);
  segtune::SaveCoco(original.coco, dir / "coco.json");
  segtune::LabeledDataset via_coco;
  via_coco.coco = segtune::LoadCoco(dir / "coco.json");
  segtune::WriteLabelStudio(via_coco, dir / "ls.json", {}, &report);
  const std::string text = segtune::ReadFile(dir / "ls.json");
  const nlohmann::json tasks = nlohmann::json::parse(text);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_TRUE(tasks[0].contains("annotations")) << "regions without a score are a person's";
  EXPECT_FALSE(tasks[0].contains("predictions"));
  EXPECT_FALSE(tasks[2].contains("annotations")) << "the predicted task stays unlabeled";
  EXPECT_EQ(tasks[2]["predictions"][0]["model_version"], "v3");
  EXPECT_EQ(tasks[2]["predictions"][0]["result"][0]["score"], 0.75);
  EXPECT_NE(text.find("/data/upload/1/0a1b2c3d-street.png"), std::string::npos) << "the task's own data.image";

  const segtune::LabeledDataset back = Read(dir / "ls.json", &report);
  ASSERT_EQ(back.coco.images.size(), original.coco.images.size());
  ASSERT_EQ(back.coco.annotations.size(), original.coco.annotations.size());
  for (size_t i = 0; i < original.coco.images.size(); ++i) {
    EXPECT_EQ(back.coco.images[i].file_name, original.coco.images[i].file_name);
    EXPECT_EQ(back.coco.images[i].id, original.coco.images[i].id);
  }
  for (size_t i = 0; i < original.coco.annotations.size(); ++i) {
    const auto& a = original.coco.annotations[i];
    const auto& b = back.coco.annotations[i];
    const std::string what = "annotation " + std::to_string(i);
    EXPECT_EQ(CategoryName(back.coco, b.category_id), CategoryName(original.coco, a.category_id)) << what;
    ExpectNear({b.bbox.begin(), b.bbox.end()}, {a.bbox.begin(), a.bbox.end()}, what);
    ASSERT_EQ(b.segmentation.polygons.size(), a.segmentation.polygons.size()) << what;
    for (size_t k = 0; k < a.segmentation.polygons.size(); ++k) ExpectNear(b.segmentation.polygons[k], a.segmentation.polygons[k], what);
    EXPECT_EQ(b.segmentation.rle, a.segmentation.rle) << what << ": brush masks are lossless";
    EXPECT_EQ(b.extra.value("labelstudio", nlohmann::json()), a.extra.value("labelstudio", nlohmann::json())) << what;
    EXPECT_EQ(b.score, a.score) << what;
  }
}

TEST(LabelStudio, ScoresAreWrittenAsPredictionsWithModelVersion) {
  TempDir dir;
  segtune::LabeledDataset d = OneImageDataset(4, "shelf/a b.jpg");
  d.coco.info["model_version"] = "segtune-run-3";
  segtune::CocoImage image = d.coco.images[0];
  segtune::CocoAnnotation a;
  a.id = 1;
  a.image_id = image.id;
  a.category_id = 4;
  a.bbox = {5, 2, 10, 4};
  a.score = 0.5;
  d.coco.annotations.push_back(a);
  a.id = 2, a.score = 0.9, a.bbox = {0, 0, 50, 20};
  d.coco.annotations.push_back(a);
  image.id = {"2", true};
  image.file_name = "https://example.com/empty.jpg";
  d.coco.images.push_back(image);
  segtune::ConversionReport report;
  segtune::WriteLabelStudio(d, dir / "pre.json", {}, &report);
  const nlohmann::json tasks = nlohmann::json::parse(segtune::ReadFile(dir / "pre.json"));
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_FALSE(tasks[0].contains("annotations"));
  EXPECT_FALSE(tasks[1].contains("annotations")) << "an empty annotation would mark the task labeled";
  EXPECT_EQ(tasks[1]["data"]["image"], "https://example.com/empty.jpg");
  EXPECT_EQ(tasks[0]["data"]["image"], "/data/local-files/?d=shelf/a%20b.jpg");
  const auto& prediction = tasks[0]["predictions"].at(0);
  EXPECT_EQ(prediction["model_version"], "segtune-run-3");
  EXPECT_NEAR(prediction["score"].get<double>(), 0.7, 1e-9) << "the task's score: mean of its regions'";
  const auto& result = prediction["result"];
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result[0]["type"], "rectanglelabels");
  EXPECT_EQ(result[0]["score"], 0.5);
  EXPECT_EQ(result[0]["value"]["rectanglelabels"], nlohmann::json::array({"bottle"}));
  EXPECT_DOUBLE_EQ(result[0]["value"]["x"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(result[0]["value"]["height"].get<double>(), 20.0);
  EXPECT_EQ(result[0]["original_width"], 50);
  // Read back: the prediction's scores come with it.
  const segtune::LabeledDataset back = Read(dir / "pre.json", &report);
  ASSERT_EQ(back.coco.annotations.size(), 2u);
  EXPECT_EQ(back.coco.annotations[1].score, 0.9);
  EXPECT_EQ(back.coco.images[0].file_name, "shelf/a b.jpg");
}

// Label Studio refuses a region whose type differs from its control's, two controls of one name,
// scores outside [0, 1] and percentages outside [0, 100]: regions of several kinds get a control name
// per kind, and out-of-range values are clamped, with warnings.
TEST(LabelStudio, MixedKindsGetOneControlNameEachAndOutOfRangeValuesAreClamped) {
  TempDir dir;
  segtune::LabeledDataset d = OneImageDataset(1, "a.jpg");
  const segtune::CocoImage& image = d.coco.images[0];
  segtune::CocoAnnotation box;
  box.id = 1, box.image_id = image.id, box.category_id = 1;
  box.bbox = {-5, 2, 60, 4};  // Sticks out left and right.
  box.score = 1.5;
  segtune::CocoAnnotation polygon = box;
  polygon.id = 2, polygon.score = 0.25;
  polygon.segmentation.polygons = {{0, 0, 10, 0, 10, 10}};
  polygon.bbox = {0, 0, 10, 10};
  segtune::CocoAnnotation mask = box;
  mask.id = 3, mask.score = -0.5;
  segtune::Rle rle;
  rle.h = 20, rle.w = 50, rle.counts = {10, 5, 985};
  mask.segmentation.rle = rle;
  d.coco.annotations = {box, polygon, mask};
  segtune::ConversionReport report;
  segtune::WriteLabelStudio(d, dir / "pre.json", {}, &report);
  const nlohmann::json result = nlohmann::json::parse(segtune::ReadFile(dir / "pre.json"))[0]["predictions"][0]["result"];
  ASSERT_EQ(result.size(), 3u);
  EXPECT_EQ(result[0]["from_name"], "label");
  EXPECT_EQ(result[1]["from_name"], "polygon");
  EXPECT_EQ(result[2]["from_name"], "brush");
  EXPECT_EQ(result[0]["score"], 1.0);
  EXPECT_EQ(result[2]["score"], 0.0);
  EXPECT_DOUBLE_EQ(result[0]["value"]["x"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(result[0]["value"]["width"].get<double>(), 100.0);
  EXPECT_TRUE(Warned(report, "3 kinds"));
  EXPECT_TRUE(Warned(report, "clipped"));
  EXPECT_TRUE(Warned(report, "clamped"));
  // One kind only: Label Studio's template name.
  d.coco.annotations = {polygon};
  segtune::ConversionReport single;
  segtune::WriteLabelStudio(d, dir / "one.json", {}, &single);
  EXPECT_EQ(nlohmann::json::parse(segtune::ReadFile(dir / "one.json"))[0]["predictions"][0]["result"][0]["from_name"], "label");
  EXPECT_TRUE(single.warnings.empty());
}

// A project whose labeling config names its controls otherwise: --label-studio-control and
// --label-studio-image name them, over the template names and over the names an export carried.
TEST(LabelStudio, ControlAndImageNamesOfTheProjectAreWrittenWhenGiven) {
  TempDir dir;
  segtune::LabeledDataset d = OneImageDataset(1, "a.jpg");
  segtune::CocoAnnotation box;
  box.id = 1, box.image_id = d.coco.images[0].id, box.category_id = 1;
  box.bbox = {5, 2, 10, 4};
  segtune::CocoAnnotation polygon = box;
  polygon.id = 2;
  polygon.segmentation.polygons = {{0, 0, 10, 0, 10, 10}};
  polygon.extra[segtune::kLabelStudioRegionKey] = {{"from_name", "poly_read"}, {"to_name", "img_read"}};
  d.coco.annotations = {box, polygon};
  const auto names_written = [&](const segtune::WriteOptions& options) {
    segtune::ConversionReport report;
    segtune::WriteLabelStudio(d, dir / "out.json", options, &report);
    std::vector<std::string> names;
    const nlohmann::json tasks = nlohmann::json::parse(segtune::ReadFile(dir / "out.json"));
    for (const auto& region : tasks[0]["annotations"][0]["result"]) {
      names.push_back(region["from_name"].get<std::string>() + "/" + region["to_name"].get<std::string>());
    }
    return names;
  };
  segtune::WriteOptions options;
  options.overwrite = true;  // Each call replaces the previous one's file.
  EXPECT_EQ(names_written(options), (std::vector<std::string>{"label/image", "poly_read/img_read"}));
  options.label_studio_controls = {"box", "polygon=outline"};
  options.label_studio_image = "photo";
  EXPECT_EQ(names_written(options), (std::vector<std::string>{"box/photo", "outline/photo"}));
  options.label_studio_controls = {"rectanglelabels=box"};
  options.label_studio_image.clear();
  EXPECT_EQ(names_written(options), (std::vector<std::string>{"box/image", "poly_read/img_read"}));

  options.label_studio_controls = {"same", "polygon=same"};
  try {
    names_written(options);
    ADD_FAILURE() << "one control name for two kinds";
  } catch (const segtune::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("would both use control 'same'"), std::string::npos) << e.what();
  }
  for (const auto& [values, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"ellipse=e"}, "rectangle, polygon or brush"}, {{"polygon="}, "empty"}, {{"a", "b"}, "named twice"}}) {
    try {
      segtune::ParseLabelStudioControls(values);
      ADD_FAILURE() << values[0];
    } catch (const segtune::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--label-studio-control '" + values.back() + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(LabelStudio, MalformedInputNamesFileAndElement) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "syntax.json", "[\n {\"data\": {\"image\": \"a.jpg\"},\n  \"annotations\": [,]}\n]");
  std::string m = ExpectThrowsFormat(dir / "syntax.json");
  EXPECT_NE(m.find("syntax.json: line 3"), std::string::npos) << m;

  segtune::WriteFileAtomic(dir / "points.json", R"([{"id": 4, "data": {"image": "a.jpg"}, "annotations": [{"result": [
    {"type": "polygonlabels", "original_width": 10, "original_height": 10,
     "value": {"points": [[1, 1], [2], [3, 3]], "polygonlabels": ["x"]}}]}]}])");
  m = ExpectThrowsFormat(dir / "points.json");
  EXPECT_NE(m.find("points.json: task 4 ('a.jpg'): annotations[0].result[0].value.points[1]: expected [x, y]"),
            std::string::npos) << m;

  segtune::WriteFileAtomic(dir / "size.json", R"([{"data": {"image": "a.jpg"}, "annotations": [{"result": [
    {"type": "rectanglelabels", "value": {"x": 1, "y": 1, "width": 2, "height": 2, "rectanglelabels": ["x"]}}]}]}])");
  m = ExpectThrowsFormat(dir / "size.json");
  EXPECT_NE(m.find("result[0]: expected a field \"original_width\""), std::string::npos) << m;

  segtune::WriteFileAtomic(dir / "brush.json", R"([{"data": {"image": "a.jpg"}, "annotations": [{"result": [
    {"type": "brushlabels", "original_width": 10, "original_height": 8,
     "value": {"format": "rle", "rle": [0, 0, 1, 64, 56, 163], "brushlabels": ["x"]}}]}]}])");
  m = ExpectThrowsFormat(dir / "brush.json");
  EXPECT_NE(m.find("brush.json: task 1 ('a.jpg'): annotations[0].result[0].value.rle: brush RLE ends early"),
            std::string::npos) << m;

  segtune::WriteFileAtomic(dir / "big.json", R"([{"data": {"image": "a.jpg"}, "annotations": [{"result": [
    {"type": "brushlabels", "original_width": 2, "original_height": 2,
     "value": {"format": "rle", "rle": [0, 0, 1, 64, 56, 163, 222, 47], "brushlabels": ["x"]}}]}]}])");
  m = ExpectThrowsFormat(dir / "big.json");
  EXPECT_NE(m.find("holds 320 values, expected 16"), std::string::npos) << m;
}

TEST(LabelStudio, HostileImageNamesNeverWriteOutsideTheOutput) {
  TempDir dir;
  fs::create_directories(dir / "in");
  segtune::WriteFileAtomic(dir / "in" / "tasks.json", R"([
    {"id": 1, "data": {"image": "/data/upload/1/../../../../evil.png"}, "annotations": [{"result": [
      {"type": "rectanglelabels", "original_width": 10, "original_height": 10,
       "value": {"x": 0, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["x"]}}]}]},
    {"id": 2, "data": {"image": "/data/local-files/?d=../../../../tmp/evil2.png"}, "annotations": [{"result": [
      {"type": "rectanglelabels", "original_width": 10, "original_height": 10,
       "value": {"x": 0, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["x"]}}]}]}])");
  segtune::ConvertOptions options;
  options.input = dir / "in" / "tasks.json";
  options.output = dir / "out";
  options.to = "labelme";
  options.check_images = false;
  const segtune::ConversionReport report = segtune::ConvertAnnotations(options);
  EXPECT_EQ(report.from, "labelstudio");
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"in", "out"}));
  std::set<std::string> written;
  for (const auto& e : fs::directory_iterator(dir / "out")) written.insert(e.path().filename().string());
  EXPECT_EQ(written, (std::set<std::string>{"evil.json", "evil2.json"}));
  EXPECT_EQ(segtune::LabelStudioFileName("/data/upload/1/../../evil.png"), "evil.png");
}

TEST(LabelStudio, AutoDetectPicksLabelStudioForItsFilesOnly) {
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("export.json")).name, "labelstudio");
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("export_min.json")).name, "labelstudio");
  TempDir dir;
  segtune::CocoDataset coco;
  coco.images.push_back({{"1", true}, "a.jpg", 4, 4, "", "", {}});
  segtune::SaveCoco(coco, dir / "coco.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "coco.json").name, "coco");
  // Label Studio writes "data" after the annotations; a brush mask pushes it far down the file.
  nlohmann::json task = {{"id", 1}, {"annotations", {{{"result", {{{"original_width", 300}, {"original_height", 300},
      {"type", "brushlabels"}, {"value", {{"format", "rle"}, {"rle", std::vector<int>(5000, 17)}}}}}}}}}};
  task["zz_data_last"] = {{"image", "a.png"}};
  segtune::WriteFileAtomic(dir / "brush.json", nlohmann::json::array({task}).dump());
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "brush.json").name, "labelstudio");
  const segtune::AnnotationFormat& ls = segtune::FindAnnotationFormat("labelstudio");
  EXPECT_EQ(ls.detect(dir / "coco.json"), 0);
  EXPECT_EQ(ls.detect(segtune::testing::SourcePath("tests/data/fixtures/convert/createml/annotations.json")), 0);
}

}  // namespace
