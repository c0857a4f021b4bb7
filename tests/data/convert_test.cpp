// The `segtune convert` frame (data/convert/convert.h): the format tables, auto-detection, the
// missing-image check and embedded images. Each format's own reader and writer has its own test file
// (convert_<format>_test.cpp).
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/mask_polygons.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

segtune::CocoDataset TwoImages() {
  segtune::CocoDataset d;
  d.categories.push_back({1, "bottle", "", {}});
  for (int i = 0; i < 2; ++i) {
    segtune::CocoImage image;
    image.id = {std::to_string(i + 1), true};
    image.file_name = "img" + std::to_string(i) + ".jpg";
    image.width = 20, image.height = 10;
    d.images.push_back(image);
    segtune::CocoAnnotation a;
    a.id = i + 1;
    a.image_id = image.id;
    a.category_id = 1;
    a.bbox = {1, 2, 5, 4};
    a.area = 20;
    d.annotations.push_back(a);
  }
  return d;
}

TEST(ConvertFrame, EveryNamedFormatHasItsFunctionsAndViceVersa) {
  std::set<std::string> named;
  for (const auto& n : segtune::AnnotationFormatNames()) {
    named.insert(n.name);
    const segtune::AnnotationFormat& f = segtune::FindAnnotationFormat(n.name);
    EXPECT_EQ(bool(f.read), n.readable) << n.name;
    EXPECT_EQ(bool(f.write), n.writable) << n.name;
    EXPECT_EQ(bool(f.detect), n.readable) << n.name << ": every readable format can be auto-detected";
  }
  EXPECT_EQ(named.size(), segtune::AnnotationFormatNames().size()) << "duplicate names";
  for (const auto& f : segtune::AnnotationFormats()) EXPECT_TRUE(named.count(f.name)) << f.name;
  EXPECT_EQ(segtune::AnnotationFormats().size(), named.size());
}

TEST(ConvertFrame, UnknownFormatNamesTheKnownOnes) {
  try {
    segtune::FindAnnotationFormat("pascal");
    FAIL();
  } catch (const segtune::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'pascal'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("coco"), std::string::npos) << e.what();
  }
}

TEST(ConvertFrame, AutoDetectsCocoAndRefusesWhatItCannotTell) {
  TempDir dir;
  segtune::SaveCoco(TwoImages(), dir / "a.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "a.json").name, "coco");
  segtune::WriteFileAtomic(dir / "b.json", "[1, 2, 3]");
  EXPECT_THROW(segtune::DetectAnnotationFormat(dir / "b.json"), segtune::UsageError);
}

TEST(ConvertFrame, ListsEveryMissingImageAndStopsUnlessSkipMissing) {
  TempDir dir;
  segtune::SaveCoco(TwoImages(), dir / "a.json");
  segtune::ConvertOptions options;
  options.input = dir / "a.json";
  options.output = dir / "out.json";
  options.to = "coco";
  try {
    segtune::ConvertAnnotations(options);
    FAIL() << "expected the missing images to stop the conversion";
  } catch (const segtune::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("img0.jpg"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("img1.jpg"), std::string::npos) << "all of them, not just the first";
  }
  EXPECT_FALSE(fs::exists(dir / "out.json"));

  segtune::WriteFileAtomic(dir / "img1.jpg", "not really a jpeg");
  options.skip_missing = true;
  const segtune::ConversionReport report = segtune::ConvertAnnotations(options);
  EXPECT_EQ(report.from, "coco");
  EXPECT_EQ(report.skipped_images, 1);
  EXPECT_EQ(report.missing_images, std::vector<std::string>{"img0.jpg"});
  const segtune::CocoDataset out = segtune::LoadCoco(dir / "out.json");
  ASSERT_EQ(out.images.size(), 1u);
  EXPECT_EQ(out.images[0].file_name, "img1.jpg");
  ASSERT_EQ(out.annotations.size(), 1u) << "the missing image's annotation goes with it";
  EXPECT_EQ(out.annotations[0].image_id.text, "2");
}

TEST(ConvertFrame, ExistingOutputIsReplacedOnlyWithOverwrite) {
  TempDir dir;
  segtune::SaveCoco(TwoImages(), dir / "a.json");
  segtune::ConvertOptions options;
  options.input = dir / "a.json";
  options.output = dir / "out.json";
  options.to = "coco";
  options.check_images = false;
  segtune::WriteFileAtomic(options.output, "{\"mine\": 1}");
  EXPECT_THROW(segtune::ConvertAnnotations(options), segtune::UsageError);
  EXPECT_EQ(segtune::ReadFile(options.output), "{\"mine\": 1}");
  options.write.overwrite = true;
  segtune::ConvertAnnotations(options);
  EXPECT_EQ(segtune::LoadCoco(options.output).images.size(), 2u);
}

TEST(ConvertFrame, EmbeddedImagesGoOnlyIntoImagesDirUnderSanitizedNames) {
  TempDir dir;
  segtune::LabeledDataset dataset;
  dataset.coco = TwoImages();
  dataset.coco.images[0].file_name = "../../escape.jpg";
  dataset.embedded_images["../../escape.jpg"] = "bytes0";
  dataset.embedded_images["img1.jpg"] = "bytes1";
  segtune::ConvertOptions options;
  options.input = dir / "in.json";
  options.output = dir / "out" / "a.json";
  options.to = "coco";
  options.images_dir = dir / "out" / "images";
  segtune::ConversionReport report;
  segtune::WriteAnnotations(dataset, options, &report);
  EXPECT_FALSE(fs::exists(dir / "escape.jpg"));
  EXPECT_FALSE(fs::exists(dir / "out" / "escape.jpg"));
  EXPECT_EQ(segtune::ReadFile(dir / "out" / "images" / "img1.jpg"), "bytes1");
  const segtune::CocoDataset out = segtune::LoadCoco(options.output);
  ASSERT_EQ(out.images.size(), 2u);
  EXPECT_EQ(out.images[0].file_name.find('/'), std::string::npos) << out.images[0].file_name;
  EXPECT_EQ(segtune::ReadFile(dir / "out" / "images" / out.images[0].file_name), "bytes0");
  bool reported = false;
  for (const auto& w : report.warnings) reported |= w.element.find("../../escape.jpg") != std::string::npos;
  EXPECT_TRUE(reported) << "the renamed file is reported";
}

TEST(ConvertFrame, CliConvertsAndPrintsCounts) {
  TempDir dir;
  segtune::SaveCoco(TwoImages(), dir / "a.json");
  const auto r = segtune::testing::RunSegtune("convert --to coco --no-image-check '" + (dir / "a.json").string() +
                                              "' -o '" + (dir / "b.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 images, 2 annotations, 1 categories from coco"), std::string::npos) << r.output;
  EXPECT_EQ(segtune::LoadCoco(dir / "b.json").annotations.size(), 2u);
  const auto help = segtune::testing::RunSegtune("convert --help");
  EXPECT_NE(help.output.find("Formats read:"), std::string::npos) << help.output;
}

}  // namespace

namespace {

// `convert --from labelbox` (auto-detected) is labelbox2coco: the same COCO for every flavour.
TEST(ConvertFrame, LabelboxExportsConvertLikeLabelbox2Coco) {
  for (const char* name : {"v1_export.json", "export_v2.ndjson", "legacy_2018_xy.json"}) {
    TempDir dir;
    const std::string input = segtune::testing::SourcePath(std::string("tests/data/fixtures/labelbox/") + name);
    EXPECT_EQ(segtune::DetectAnnotationFormat(input).name, "labelbox") << name;
    const auto a = segtune::testing::RunSegtune("labelbox2coco '" + input + "' -o '" + (dir / "a.json").string() + "'");
    // Exit 1 when a mask URL cannot be fetched (the v1 fixture's is a placeholder); the file is written.
    ASSERT_TRUE(a.exit_code == 0 || a.exit_code == 1) << a.output;
    ASSERT_TRUE(std::filesystem::exists(dir / "a.json")) << a.output;
    const auto b = segtune::testing::RunSegtune("convert '" + input + "' --to coco -o '" + (dir / "b.json").string() + "'");
    ASSERT_EQ(b.exit_code, 0) << b.output;
    EXPECT_NE(b.output.find("from labelbox"), std::string::npos) << b.output;
    EXPECT_EQ(segtune::CocoToJson(segtune::LoadCoco(dir / "a.json")), segtune::CocoToJson(segtune::LoadCoco(dir / "b.json")))
        << name;
  }
}

}  // namespace

namespace {

TEST(ConvertFrame, AnImageDeclaredAboveMaxPixelsStopsTheConversion) {
  TempDir dir;
  segtune::CocoDataset d = TwoImages();
  d.images[1].width = 200000;
  d.images[1].height = 100000;
  segtune::SaveCoco(d, dir / "a.json");
  segtune::ConvertOptions options;
  options.input = dir / "a.json";
  options.output = dir / "b.json";
  options.to = "coco";
  options.check_images = false;
  try {
    segtune::ConvertAnnotations(options);
    FAIL() << "expected the pixel limit";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("image 'img1.jpg'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--max-pixels"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "b.json"));
}

TEST(TracePolygonsLimit, AMaskAboveMaxPixelsIsRefusedBeforeAllocating) {
  segtune::Rle huge;
  huge.h = 100000;
  huge.w = 100000;
  huge.counts = {static_cast<uint32_t>(0)};  // Never decoded: refused on its size.
  EXPECT_THROW(segtune::TracePolygons(huge, {}), segtune::Error);
}

}  // namespace


namespace {

// `labelmap --from`: the classes of another tool's export, read in the plugin, as the COCO path.
TEST(ConvertFrame, LabelmapFromAnotherFormatGivesTheSameMapAsThroughCoco) {
  TempDir dir;
  const std::string input = segtune::testing::SourcePath("tests/data/fixtures/convert/cvat/task_annotations.xml");
  const auto coco = segtune::testing::RunSegtune("convert '" + input + "' --to coco --no-image-check -o '" +
                                                 (dir / "c.json").string() + "'");
  ASSERT_EQ(coco.exit_code, 0) << coco.output;
  const auto a = segtune::testing::RunSegtune("labelmap '" + (dir / "c.json").string() + "' -o '" +
                                              (dir / "a.pbtxt").string() + "'");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const auto b = segtune::testing::RunSegtune("labelmap --from auto '" + input + "' -o '" + (dir / "b.pbtxt").string() + "'");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const std::string map = segtune::ReadFile(dir / "a.pbtxt");
  EXPECT_NE(map.find("item"), std::string::npos) << map;
  EXPECT_EQ(segtune::ReadFile(dir / "b.pbtxt"), map);
}

}  // namespace
