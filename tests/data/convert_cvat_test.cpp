// CVAT for images 1.1 XML (data/convert/cvat_format.cpp, cvat_mask_rle.h): task and project exports
// in tests/data/fixtures/convert/cvat/ written in CVAT's documented layout, masks in CVAT's RLE,
// round trips through COCO, malformed input and auto-detection.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>
#include <random>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/cvat_mask_rle.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

fs::path Fixture(const std::string& name) {
  return segtune::testing::SourcePath("tests/data/fixtures/convert/cvat/" + name);
}

segtune::LabeledDataset Read(const fs::path& file, segtune::ConversionReport* report) {
  return segtune::FindAnnotationFormat("cvat").read(file, {}, report);
}

void Write(const segtune::LabeledDataset& dataset, const fs::path& file, segtune::ConversionReport* report) {
  segtune::FindAnnotationFormat("cvat").write(dataset, file, {}, report);
}

// Row-major pixels of a mask, for comparing with what the fixture's RLE draws.
std::vector<uint8_t> Pixels(const segtune::Rle& rle) {
  std::vector<uint8_t> out(size_t(rle.h) * rle.w);
  segtune::RleDecode(rle, out.data());
  return out;
}

bool HasWarning(const segtune::ConversionReport& r, const std::string& element_part, const std::string& message_part) {
  for (const auto& w : r.warnings) {
    if (w.element.find(element_part) != std::string::npos && w.message.find(message_part) != std::string::npos) return true;
  }
  return false;
}

std::string ErrorOf(const std::string& xml) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "bad.xml", xml);
  segtune::ConversionReport report;
  try {
    Read(dir / "bad.xml", &report);
  } catch (const segtune::FormatError& e) {
    return e.what();
  }
  return "no error";
}

std::string OneImage(const std::string& shape) {
  return "<?xml version=\"1.0\"?>\n<annotations>\n<version>1.1</version>\n<meta><task><labels><label><name>car</name>"
         "</label></labels></task></meta>\n<image id=\"0\" name=\"a.jpg\" width=\"10\" height=\"8\">\n" +
         shape + "\n</image>\n</annotations>\n";
}

TEST(CvatFormat, ReadsTaskExportShapesAttributesAndLabelOrder) {
  segtune::ConversionReport report;
  const auto d = Read(Fixture("task_annotations.xml"), &report);
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].name, "car");
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(d.coco.categories[1].name, "person");
  EXPECT_EQ(d.coco.categories[1].id, 2);
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[1].file_name, "frame_001.jpg");
  EXPECT_EQ(d.coco.images[1].id.text, "1");
  ASSERT_EQ(d.coco.annotations.size(), 3u) << "box, polygon and mask; the rest is skipped";

  const auto& box = d.coco.annotations[0];
  EXPECT_EQ(box.category_id, 1);
  EXPECT_EQ(box.bbox, (std::array<double, 4>{1, 2, 4.5, 4}));
  EXPECT_EQ(box.extra["occluded"], 1);
  EXPECT_EQ(box.extra["z_order"], 2);
  EXPECT_EQ(box.extra["attributes"]["color"], "red");
  EXPECT_EQ(box.extra["attributes"]["note"], "a < b & \"c\"");

  const auto& polygon = d.coco.annotations[1];
  ASSERT_EQ(polygon.segmentation.polygons.size(), 1u);
  EXPECT_EQ(polygon.segmentation.polygons[0], (std::vector<double>{1, 1, 6, 1, 6, 5}));
  EXPECT_EQ(polygon.bbox, (std::array<double, 4>{1, 1, 5, 4}));
  EXPECT_DOUBLE_EQ(polygon.area, 10.0);
}

TEST(CvatFormat, MaskRleRunsRowMajorOverItsOwnBoxStartingWithBackground) {
  segtune::ConversionReport report;
  const auto d = Read(Fixture("task_annotations.xml"), &report);
  const auto& mask = d.coco.annotations[2];
  ASSERT_TRUE(mask.segmentation.rle);
  ASSERT_EQ(mask.segmentation.rle->h, 8u);
  ASSERT_EQ(mask.segmentation.rle->w, 10u);
  // rle="2, 3, 1, 3, 3" over the 4x3 box at (2,3): rows ..## / #.## / #...
  std::vector<uint8_t> expected(80, 0);
  for (auto [x, y] : std::vector<std::pair<int, int>>{{4, 3}, {5, 3}, {2, 4}, {4, 4}, {5, 4}, {2, 5}}) expected[y * 10 + x] = 1;
  EXPECT_EQ(Pixels(*mask.segmentation.rle), expected);
  EXPECT_EQ(mask.bbox, (std::array<double, 4>{2, 3, 4, 3}));
  EXPECT_EQ(mask.area, 6);
  EXPECT_EQ(mask.extra["source"], "semi-auto");
}

TEST(CvatFormat, WarnsForEachSkippedShapeNamingImageAndShape) {
  segtune::ConversionReport report;
  Read(Fixture("task_annotations.xml"), &report);
  const std::string text = segtune::ReadFile(Fixture("task_annotations.xml"));
  const std::string polyline_line = "line " + std::to_string(segtune::testing::LineOf(text, "<polyline"));
  EXPECT_TRUE(HasWarning(report, polyline_line + ": image 'frame_000.jpg': polyline 3", "skipped"));
  EXPECT_TRUE(HasWarning(report, "image 'frame_000.jpg': points 4", "skipped"));
  EXPECT_TRUE(HasWarning(report, "image 'frame_000.jpg': tag 6", "skipped"));
  EXPECT_EQ(report.warnings.size(), 3u);
  for (const auto& w : report.warnings) EXPECT_NE(w.file.find("task_annotations.xml"), std::string::npos);
}

TEST(CvatFormat, ReadsProjectExportSubsetsAndWritesThemBack) {
  segtune::ConversionReport report;
  const auto d = Read(Fixture("project_annotations.xml"), &report);
  ASSERT_EQ(d.coco.categories.size(), 2u) << "labels from <meta><project><labels>";
  EXPECT_EQ(d.coco.categories[1].name, "can");
  EXPECT_EQ(d.subset_of_image.at("0"), "Train");
  EXPECT_EQ(d.subset_of_image.at("1"), "Validation");
  TempDir dir;
  Write(d, dir / "out.xml", &report);
  const std::string xml = segtune::ReadFile(dir / "out.xml");
  EXPECT_NE(xml.find("<project>"), std::string::npos);
  EXPECT_NE(xml.find("name=\"b2.jpg\" subset=\"Validation\""), std::string::npos) << xml;
  EXPECT_EQ(Read(dir / "out.xml", &report).subset_of_image, d.subset_of_image);
}

// The same shapes after cvat -> COCO JSON -> cvat: boxes and polygons to CVAT's 2 decimals, masks
// pixel for pixel, labels, attributes (escaped), occluded and z_order.
TEST(CvatFormat, RoundTripThroughCocoKeepsShapes) {
  TempDir dir;
  segtune::ConvertOptions options;
  options.input = Fixture("task_annotations.xml");
  options.output = dir / "a.json";
  options.to = "coco";
  options.check_images = false;
  segtune::ConvertAnnotations(options);
  options.input = dir / "a.json";
  options.output = dir / "b.xml";
  options.to = "cvat";
  const auto report = segtune::ConvertAnnotations(options);
  EXPECT_EQ(report.from, "coco");

  segtune::ConversionReport r;
  const auto a = Read(Fixture("task_annotations.xml"), &r);
  const auto b = Read(dir / "b.xml", &r);
  ASSERT_EQ(b.coco.categories.size(), a.coco.categories.size());
  for (size_t i = 0; i < a.coco.categories.size(); ++i) EXPECT_EQ(b.coco.categories[i].name, a.coco.categories[i].name);
  ASSERT_EQ(b.coco.images.size(), 2u);
  ASSERT_EQ(b.coco.annotations.size(), a.coco.annotations.size());
  for (size_t i = 0; i < a.coco.annotations.size(); ++i) {
    const auto& x = a.coco.annotations[i];
    const auto& y = b.coco.annotations[i];
    EXPECT_EQ(y.category_id, x.category_id) << i;
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(y.bbox[k], x.bbox[k], 0.005) << i;
    EXPECT_EQ(y.segmentation.polygons, x.segmentation.polygons) << i;
    EXPECT_EQ(y.segmentation.rle.has_value(), x.segmentation.rle.has_value()) << i;
    if (x.segmentation.rle) EXPECT_EQ(*y.segmentation.rle, *x.segmentation.rle) << i;
    EXPECT_EQ(y.extra, x.extra) << i;
  }
  EXPECT_NE(segtune::ReadFile(dir / "b.xml").find("a &lt; b &amp; &quot;c&quot;"), std::string::npos);
}

TEST(CvatFormat, WritesPolygonPartsAsPolygonsAndBoxesAsBoxes) {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "bottle", "", {}});
  d.coco.images.push_back({{"5", true}, "x.jpg", 20, 10, "", "", {}});
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = {"5", true}, a.category_id = 1;
  a.segmentation.polygons = {{1, 1, 4, 1, 4, 4}, {10, 2, 12, 2, 11, 5}};
  d.coco.annotations.push_back(a);
  a.id = 2, a.segmentation = {}, a.bbox = {3, 4, 5.25, 2};
  d.coco.annotations.push_back(a);
  TempDir dir;
  segtune::ConversionReport report;
  Write(d, dir / "o.xml", &report);
  const std::string xml = segtune::ReadFile(dir / "o.xml");
  EXPECT_EQ(segtune::testing::CountOccurrences(xml, "<polygon "), 2u);
  EXPECT_NE(xml.find("points=\"10.00,2.00;12.00,2.00;11.00,5.00\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("xtl=\"3.00\" ytl=\"4.00\" xbr=\"8.25\" ybr=\"6.00\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<image id=\"5\" name=\"x.jpg\""), std::string::npos);
  EXPECT_TRUE(HasWarning(report, "annotation 1", "2 polygon parts"));
}

// Predictions go back to CVAT as pre-labels: the score is an attribute `score`, the source "auto".
TEST(CvatFormat, PredictionScoreIsWrittenAsScoreAttributeAndReadBack) {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "bottle", "", {}});
  d.coco.images.push_back({{"1", true}, "x.jpg", 8, 8, "", "", {}});
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = {"1", true}, a.category_id = 1, a.bbox = {1, 1, 3, 3}, a.score = 0.875;
  d.coco.annotations.push_back(a);
  TempDir dir;
  segtune::ConversionReport report;
  Write(d, dir / "p.xml", &report);
  const std::string xml = segtune::ReadFile(dir / "p.xml");
  EXPECT_NE(xml.find("<attribute name=\"score\">0.875</attribute>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("source=\"auto\""), std::string::npos);
  EXPECT_NE(xml.find("<name>score</name>"), std::string::npos) << "declared on the label, as CVAT requires";
  const auto back = Read(dir / "p.xml", &report);
  ASSERT_EQ(back.coco.annotations.size(), 1u);
  ASSERT_TRUE(back.coco.annotations[0].score);
  EXPECT_DOUBLE_EQ(*back.coco.annotations[0].score, 0.875);
}

// Fields CVAT has no place for (VOC's difficult, pose) travel as attributes instead of being lost.
TEST(CvatFormat, OtherAnnotationFieldsBecomeAttributes) {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "person", "", {}});
  d.coco.images.push_back({{"1", true}, "x.jpg", 8, 8, "", "", {}});
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = {"1", true}, a.category_id = 1, a.bbox = {1, 1, 3, 3};
  a.extra = {{"difficult", 1}, {"pose", "Left"}, {"occluded", 1}, {"tags", {1, 2}}};
  d.coco.annotations.push_back(a);
  TempDir dir;
  segtune::ConversionReport report;
  Write(d, dir / "p.xml", &report);
  const std::string xml = segtune::ReadFile(dir / "p.xml");
  EXPECT_NE(xml.find("<attribute name=\"difficult\">1</attribute>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<attribute name=\"pose\">Left</attribute>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("occluded=\"1\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("name=\"occluded\""), std::string::npos) << "occluded is the shape's own attribute";
  EXPECT_TRUE(HasWarning(report, "annotation 1", "field 'tags'"));
  const auto back = Read(dir / "p.xml", &report);
  EXPECT_EQ(back.coco.annotations[0].extra["attributes"], (nlohmann::json{{"difficult", "1"}, {"pose", "Left"}}));
}

// CVAT numbers each subset's frames of a project export from 0 (bindings.py), so ids repeat across
// subsets: they are renumbered, CVAT's id kept; twice in one subset is still an error.
TEST(CvatFormat, ProjectExportWhoseSubsetsRestartTheirIdsIsRenumbered) {
  const std::string head = "<?xml version=\"1.0\"?>\n<annotations><version>1.1</version><meta><project><labels><label>"
                           "<name>car</name></label></labels></project></meta>\n";
  const std::string images =
      "<image id=\"0\" name=\"a.jpg\" subset=\"Train\" width=\"10\" height=\"8\">"
      "<box label=\"car\" xtl=\"1\" ytl=\"1\" xbr=\"4\" ybr=\"4\" occluded=\"0\"/></image>\n"
      "<image id=\"1\" name=\"b.jpg\" subset=\"Train\" width=\"10\" height=\"8\"/>\n"
      "<image id=\"0\" name=\"c.jpg\" subset=\"Validation\" width=\"10\" height=\"8\">"
      "<box label=\"car\" xtl=\"2\" ytl=\"2\" xbr=\"5\" ybr=\"5\" occluded=\"0\"/></image>\n";
  TempDir dir;
  segtune::WriteFileAtomic(dir / "p.xml", head + images + "</annotations>\n");
  segtune::ConversionReport report;
  const auto d = Read(dir / "p.xml", &report);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[2].id.text, "3");
  EXPECT_EQ(d.coco.images[2].extra["cvat_id"], 0);
  EXPECT_EQ(d.subset_of_image.at("3"), "Validation");
  ASSERT_EQ(d.coco.annotations.size(), 2u);
  EXPECT_EQ(d.coco.annotations[1].image_id.text, "3");
  EXPECT_DOUBLE_EQ(d.coco.annotations[1].bbox[0], 2.0);
  EXPECT_TRUE(HasWarning(report, "", "restart in each subset"));
  const std::string twice = images + "<image id=\"1\" name=\"d.jpg\" subset=\"Train\" width=\"10\" height=\"8\"/>\n";
  EXPECT_NE(ErrorOf(head + twice + "</annotations>\n").find("image id 1 used twice in subset 'Train'"), std::string::npos)
      << ErrorOf(head + twice + "</annotations>\n");
}

// What CVAT's and Datumaro's importers need of a project, and what they refuse or misplace.
TEST(CvatFormat, WrittenProjectListsItsSubsetsAndShapesCvatWouldRefuseAreSkipped) {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "car", "", {}});
  for (int i = 0; i < 3; ++i) {
    d.coco.images.push_back({{std::to_string(i + 1), true}, "i" + std::to_string(i) + ".jpg", 10, 8, "", "", {}});
    d.subset_of_image[std::to_string(i + 1)] = i < 2 ? "Train" : "Validation";
  }
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = {"1", true}, a.category_id = 1, a.bbox = {1, 1, 3, 3};
  a.segmentation.polygons = {{1, 1, 4, 1}, {1, 1, 4, 1, 4, 4}};  // A 2-point part, then a triangle.
  d.coco.annotations.push_back(a);
  segtune::CocoAnnotation box;
  box.id = 2, box.image_id = {"2", true}, box.category_id = 1, box.bbox = {2, 2, 3, 3};
  box.extra = {{"attributes", {{"occluded", true}, {"rotation", 30.0}, {"track_id", 4}, {"color", "red"}}}};
  d.coco.annotations.push_back(box);
  segtune::CocoAnnotation mask;
  mask.id = 3, mask.image_id = {"3", true}, mask.category_id = 1;
  segtune::Rle rle;
  rle.h = 8, rle.w = 8, rle.counts = {10, 4, 50};  // 8x8 on a 10x8 image.
  mask.segmentation.rle = rle;
  d.coco.annotations.push_back(mask);
  TempDir dir;
  segtune::ConversionReport report;
  Write(d, dir / "p.xml", &report);
  const std::string xml = segtune::ReadFile(dir / "p.xml");
  EXPECT_NE(xml.find("<subsets>Train\nValidation</subsets>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<subset>Train</subset>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<subset>Validation</subset>"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("points=\"1.00,1.00;4.00,1.00\""), std::string::npos) << "a 2-point polygon";
  EXPECT_NE(xml.find("points=\"1.00,1.00;4.00,1.00;4.00,4.00\""), std::string::npos) << xml;
  EXPECT_TRUE(HasWarning(report, "annotation 1", "2 point(s) skipped"));
  EXPECT_NE(xml.find("occluded=\"1\""), std::string::npos) << "occluded from the attributes, a boolean" << xml;
  EXPECT_NE(xml.find("rotation=\"30.00\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("name=\"occluded\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("name=\"track_id\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<attribute name=\"color\">red</attribute>"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<mask"), std::string::npos) << xml;
  EXPECT_TRUE(HasWarning(report, "annotation 3", "mask of 8x8 on an image of 10x8 skipped"));
  // segtune reads its own output back: subsets, the triangle, the box.
  segtune::ConversionReport again;
  const auto back = Read(dir / "p.xml", &again);
  EXPECT_EQ(back.subset_of_image, d.subset_of_image);
  EXPECT_EQ(back.coco.annotations.size(), 2u);
}

// Datumaro writes <image> without width and height when it does not know them: the size then comes
// from the image file's header (in images/ beside the XML), and a missing file is an error naming it.
TEST(CvatFormat, ImageWithoutSizeTakesItFromTheImageFile) {
  TempDir dir;
  fs::create_directories(dir / "images");
  ASSERT_TRUE(cv::imwrite((dir / "images" / "a.png").string(), cv::Mat(8, 10, CV_8UC3, cv::Scalar(1, 2, 3))));
  const std::string xml =
      "<?xml version=\"1.0\"?>\n<annotations><version>1.1</version><meta><task><labels><label><name>car</name>"
      "</label></labels></task></meta>\n<image id=\"0\" name=\"a.png\">\n"
      "<mask label=\"car\" source=\"manual\" occluded=\"0\" rle=\"0, 2, 2\" left=\"8\" top=\"6\" width=\"2\" height=\"2\"/>\n"
      "</image>\n</annotations>\n";
  segtune::WriteFileAtomic(dir / "annotations.xml", xml);
  segtune::ConversionReport report;
  const auto d = Read(dir / "annotations.xml", &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].width, 10);
  EXPECT_EQ(d.coco.images[0].height, 8);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  const segtune::Rle& rle = *d.coco.annotations[0].segmentation.rle;
  EXPECT_EQ(rle.w, 10u);
  EXPECT_EQ(rle.h, 8u);
  EXPECT_DOUBLE_EQ(d.coco.annotations[0].area, 2.0);
  fs::remove(dir / "images" / "a.png");
  try {
    Read(dir / "annotations.xml", &report);
    ADD_FAILURE() << "no error";
  } catch (const segtune::FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no width and height"), std::string::npos) << what;
    EXPECT_NE(what.find((dir / "images" / "a.png").string()), std::string::npos) << what;
    EXPECT_NE(what.find("image 'a.png'"), std::string::npos) << what;
  }
}

TEST(CvatFormat, MalformedInputNamesFileAndLine) {
  std::string e = ErrorOf(OneImage("<polygon label=\"car\" points=\"1,2;3\"/>"));
  EXPECT_NE(e.find("bad.xml: line 6: image 'a.jpg': polygon 1: points"), std::string::npos) << e;
  e = ErrorOf(OneImage("<polygon label=\"car\" points=\"1,2;3,4\"/>"));
  EXPECT_NE(e.find("line 6"), std::string::npos) << e;
  EXPECT_NE(e.find("at least 3 points"), std::string::npos) << e;
  e = ErrorOf(OneImage("<mask label=\"car\" rle=\"2, 3, 1\" left=\"0\" top=\"0\" width=\"3\" height=\"3\"/>"));
  EXPECT_NE(e.find("bad.xml: line 6: image 'a.jpg': mask 1: rle: run lengths sum to 6, expected width*height = 9"),
            std::string::npos) << e;
  e = ErrorOf(OneImage("<mask label=\"car\" rle=\"2, x\" left=\"0\" top=\"0\" width=\"3\" height=\"3\"/>"));
  EXPECT_NE(e.find("line 6"), std::string::npos) << e;
  e = ErrorOf(OneImage("<mask label=\"car\" rle=\"0, 4\" left=\"8\" top=\"0\" width=\"4\" height=\"1\"/>"));
  EXPECT_NE(e.find("not inside the 10x8 image"), std::string::npos) << e;
  e = ErrorOf(OneImage("<box label=\"car\" ytl=\"1\" xbr=\"2\" ybr=\"3\"/>"));
  EXPECT_NE(e.find("bad.xml: line 6: image 'a.jpg': box 1: <box> has no attribute 'xtl'"), std::string::npos) << e;
  e = ErrorOf(OneImage("<box xtl=\"1\" ytl=\"1\" xbr=\"2\" ybr=\"3\"/>"));
  EXPECT_NE(e.find("has no attribute 'label'"), std::string::npos) << e;
  e = ErrorOf("<annotations>\n<image id=\"0\" name=\"a.jpg\" height=\"3\"/>\n</annotations>");
  EXPECT_NE(e.find("bad.xml: line 2: image 'a.jpg': <image> has no attribute 'width'"), std::string::npos) << e;
  e = ErrorOf("<annotations>\n<image id=\"0\" name=\"a.jpg\" width=\"3\" height=\"3\"><box label='car'\n</annotations>");
  EXPECT_NE(e.find("bad.xml: line 3"), std::string::npos) << e;
  e = ErrorOf("<annotation><filename>a.jpg</filename></annotation>");
  EXPECT_NE(e.find("expected the root element <annotations>"), std::string::npos) << e;
}

TEST(CvatFormat, UndeclaredLabelIsAddedWithAWarning) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "a.xml", OneImage("<box label=\"truck\" xtl=\"1\" ytl=\"1\" xbr=\"2\" ybr=\"3\"/>"));
  segtune::ConversionReport report;
  const auto d = Read(dir / "a.xml", &report);
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[1].name, "truck");
  EXPECT_EQ(d.coco.annotations[0].category_id, 2);
  EXPECT_TRUE(HasWarning(report, "box 1", "'truck' is not declared"));
}

TEST(CvatFormat, RotatedBoxKeepsItsRotationWithAWarning) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "a.xml", OneImage("<box label=\"car\" xtl=\"1\" ytl=\"1\" xbr=\"3\" ybr=\"3\" rotation=\"30.5\"/>"));
  segtune::ConversionReport report;
  const auto d = Read(dir / "a.xml", &report);
  EXPECT_EQ(d.coco.annotations[0].extra["rotation"], 30.5);
  EXPECT_EQ(d.coco.annotations[0].bbox, (std::array<double, 4>{1, 1, 2, 2}));
  EXPECT_TRUE(HasWarning(report, "line 6: image 'a.jpg': box 1", "axis-aligned"));
  Write(d, dir / "b.xml", &report);
  EXPECT_NE(segtune::ReadFile(dir / "b.xml").find("ybr=\"3.00\" rotation=\"30.50\">"), std::string::npos) << "written back";
}

TEST(CvatFormat, MaskRleConversionBothWays) {
  // A mask touching its box's top-left corner starts with an empty background run.
  std::vector<uint8_t> pixels(6 * 5, 0);
  pixels[1 * 5 + 1] = pixels[1 * 5 + 2] = pixels[2 * 5 + 2] = 1;
  const segtune::Rle rle = segtune::RleEncode(pixels.data(), 6, 5);
  const segtune::CvatMaskRle mask = segtune::RleToCvatMask(rle);
  EXPECT_EQ(mask.left, 1);
  EXPECT_EQ(mask.top, 1);
  EXPECT_EQ(mask.width, 2);
  EXPECT_EQ(mask.height, 2);
  EXPECT_EQ(mask.counts, (std::vector<uint32_t>{0, 2, 1, 1}));
  EXPECT_EQ(segtune::FormatCvatRleCounts(mask.counts), "0, 2, 1, 1");
  EXPECT_EQ(segtune::CvatMaskToRle(mask, 6, 5, "t"), rle);
  EXPECT_EQ(segtune::ParseCvatRleCounts("0,2, 1 ,1", "t"), mask.counts);
  EXPECT_THROW(segtune::ParseCvatRleCounts("1, -2", "t"), segtune::FormatError);
  EXPECT_THROW(segtune::ParseCvatRleCounts("99999999999", "t"), segtune::FormatError);
}

// CvatMaskToRle builds the image's RLE from the box alone; it must equal drawing the mask on the
// whole image and encoding that (RleEncode, checked against pycocotools in tests/formats).
TEST(CvatFormat, MaskRleFromTheBoxEqualsEncodingTheDrawnImage) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int image_w = 1 + int(random() % 23), image_h = 1 + int(random() % 19);
    segtune::CvatMaskRle mask;
    mask.left = int(random() % image_w), mask.top = int(random() % image_h);
    mask.width = 1 + int(random() % (image_w - mask.left)), mask.height = 1 + int(random() % (image_h - mask.top));
    std::vector<uint8_t> image(size_t(image_w) * image_h, 0);
    uint32_t run = 0;
    uint8_t current = 0;
    for (int y = mask.top; y < mask.top + mask.height; ++y) {
      for (int x = mask.left; x < mask.left + mask.width; ++x) {
        const uint8_t v = random() % (trial % 3 + 2) == 0 ? 1 : 0;
        image[size_t(y) * image_w + x] = v;
        if (v != current) mask.counts.push_back(run), run = 0, current = v;
        ++run;
      }
    }
    mask.counts.push_back(run);
    ASSERT_EQ(segtune::CvatMaskToRle(mask, image_h, image_w, "t"), segtune::RleEncode(image.data(), image_h, image_w))
        << "trial " << trial << ": box " << mask.left << "," << mask.top << " " << mask.width << "x" << mask.height
        << " in " << image_w << "x" << image_h;
  }
}

TEST(CvatFormat, AMaskInAnImageAboveMaxPixelsIsRefusedBeforeAllocating) {
  // A 2x2 mask declared in a 100000 x 100000 image: drawing it would take 10 GB.
  segtune::CvatMaskRle mask;
  mask.left = mask.top = 0;
  mask.width = mask.height = 2;
  mask.counts = {0, 4};
  try {
    segtune::CvatMaskToRle(mask, 100000, 100000, "a.xml: line 7");
    FAIL() << "expected the pixel limit";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("a.xml: line 7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--max-pixels"), std::string::npos) << e.what();
  }
}

TEST(CvatFormat, AutoDetectsCvatFilesAndFoldersOnly) {
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("task_annotations.xml")).name, "cvat");
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("project_annotations.xml")).name, "cvat");
  TempDir dir;
  fs::create_directories(dir / "export" / "images");
  fs::copy_file(Fixture("task_annotations.xml"), dir / "export" / "annotations.xml");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "export").name, "cvat");
  segtune::ConversionReport report;
  const auto d = segtune::ReadAnnotations(dir / "export", "auto", {}, &report);
  EXPECT_EQ(d.images_dir, dir / "export" / "images") << "an unpacked CVAT zip keeps its images in images/";
  // A Pascal VOC annotation file (root <annotation>) and COCO JSON are not CVAT.
  segtune::WriteFileAtomic(dir / "voc.xml", "<annotation><filename>a.jpg</filename></annotation>");
  EXPECT_EQ(segtune::FindAnnotationFormat("cvat").detect(dir / "voc.xml"), 0);
  segtune::WriteFileAtomic(dir / "c.json", "{\"images\": [], \"annotations\": []}");
  EXPECT_EQ(segtune::FindAnnotationFormat("cvat").detect(dir / "c.json"), 0);
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "c.json").name, "coco");
}

TEST(CvatFormat, CliDetectsCvatWritesVocAndPrintsTheSkippedShapes) {
  TempDir dir;
  const auto r = segtune::testing::RunSegtune("convert --to voc --no-image-check '" + Fixture("task_annotations.xml").string() +
                                              "' -o '" + (dir / "voc").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 images, 3 annotations, 2 categories from cvat"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("image 'frame_000.jpg': polyline 3"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "voc" / "SegmentationObject" / "frame_000.png"));
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "voc").name, "voc");
}

TEST(CvatFormat, ExistingOutputReplacedOnlyIfCvatAndOverwrite) {
  TempDir dir;
  segtune::ConversionReport report;
  const auto d = Read(Fixture("project_annotations.xml"), &report);
  segtune::WriteFileAtomic(dir / "notes.xml", "<notes>mine</notes>");
  segtune::WriteOptions options;
  options.overwrite = true;
  EXPECT_THROW(segtune::FindAnnotationFormat("cvat").write(d, dir / "notes.xml", options, &report), segtune::UsageError);
  EXPECT_EQ(segtune::ReadFile(dir / "notes.xml"), "<notes>mine</notes>");
  Write(d, dir / "a.xml", &report);
  EXPECT_THROW(Write(d, dir / "a.xml", &report), segtune::UsageError);
  segtune::FindAnnotationFormat("cvat").write(d, dir / "a.xml", options, &report);
}

// A task of `count` images, each with a polygon and a mask; `bad` replaces image `bad_at`'s lines.
std::string ManyImages(int count, int bad_at = -1, const std::string& bad = "") {
  std::string xml = "<annotations>\n<meta><task><labels><label><name>car</name></label></labels></task></meta>\n";
  for (int i = 0; i < count; ++i) {
    if (i == bad_at) {
      xml += bad + "\n";
      continue;
    }
    const std::string x = std::to_string(i % 7);
    xml += "<image id=\"" + std::to_string(i) + "\" name=\"" + std::to_string(i) + ".jpg\" width=\"10\" height=\"8\">\n"
           "<polygon label=\"car\" points=\"" + x + ",1;9,1;9,6\"/>\n"
           "<mask label=\"car\" rle=\"1, " + std::to_string(1 + i % 5) + ", 1\" left=\"1\" top=\"2\" width=\"" +
           std::to_string(3 + i % 5) + "\" height=\"1\"/>\n"
           "</image>\n";
  }
  return xml + "</annotations>\n";
}

// Shapes are parsed on several threads (cvat_format.cpp): the dataset must still be the sequential
// read's, image after image, annotations numbered in document order.
TEST(CvatFormat, ManyImagesReadInDocumentOrder) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "many.xml", ManyImages(300));
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(dir / "many.xml", &report);
  ASSERT_EQ(d.coco.images.size(), 300u);
  ASSERT_EQ(d.coco.annotations.size(), 600u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(d.coco.images[i].id.text, std::to_string(i));
    const auto& polygon = d.coco.annotations[2 * i];
    const auto& mask = d.coco.annotations[2 * i + 1];
    EXPECT_EQ(polygon.id, 2 * i + 1);
    EXPECT_EQ(polygon.image_id.text, std::to_string(i));
    ASSERT_EQ(polygon.segmentation.polygons.size(), 1u);
    EXPECT_EQ(polygon.segmentation.polygons[0][0], i % 7) << i;
    EXPECT_EQ(polygon.bbox[0], i % 7) << i;
    EXPECT_EQ(mask.image_id.text, std::to_string(i));
    ASSERT_TRUE(mask.segmentation.rle.has_value());
    EXPECT_EQ(mask.area, 1 + i % 5) << i;
    EXPECT_EQ(mask.bbox[0], 2) << i;  // Its box starts at left + the first background run.
  }
}

// With errors in several images, the one reported is the first in the file, whatever thread met it.
TEST(CvatFormat, FirstErrorInTheFileIsReportedWhateverTheThreads) {
  const std::string no_width = "<image id=\"900\" name=\"late.jpg\" height=\"8\"/>";
  const std::string bad_points =
      "<image id=\"901\" name=\"early.jpg\" width=\"10\" height=\"8\"><polygon label=\"car\" points=\"1,2;x,4;5,6\"/></image>";
  // A bad polygon early, a malformed image late.
  std::string xml = ManyImages(300, 20, bad_points);
  const size_t late = xml.find("<image id=\"250\"");
  xml.replace(late, xml.find("</image>", late) + 8 - late, no_width);
  std::string e = ErrorOf(xml);
  EXPECT_NE(e.find("image 'early.jpg': polygon 1: points: expected a number, got 'x'"), std::string::npos) << e;
  // A malformed image early, a bad polygon late.
  xml = ManyImages(300, 250, bad_points);
  const size_t early = xml.find("<image id=\"20\"");
  xml.replace(early, xml.find("</image>", early) + 8 - early, no_width);
  e = ErrorOf(xml);
  EXPECT_NE(e.find("image 'late.jpg': <image> has no attribute 'width'"), std::string::npos) << e;
}

}  // namespace
