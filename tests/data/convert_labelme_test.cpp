// LabelMe JSON (data/convert/labelme*.cpp): group_id merging, rectangles, circles, skipped lines and
// points, imageData, Windows imagePath, masks traced on writing, round trips through COCO, malformed
// input, hostile names, auto-detection, and `coco2tfrecord --from labelme`.
// Fixtures: tests/data/fixtures/convert/labelme/.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <map>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/base64.h"
#include "segtune/core/error.h"
#include "segtune/data/coco2tfrecord.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/labelme.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/rle.h"
#include "segtune/formats/tfrecord.h"
#include "convert_test_util.h"
#include "convert_test_util.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

fs::path Fixture(const std::string& name = "") {
  return segtune::testing::SourcePath("tests/data/fixtures/convert/labelme/" + name);
}

segtune::LabeledDataset Read(const fs::path& path, segtune::ConversionReport* report) {
  return segtune::ReadAnnotations(path, "labelme", {}, report);
}

using segtune::testing::Warned;

using segtune::testing::CategoryName;

std::string ThrowsFormat(const fs::path& path) {
  segtune::ConversionReport report;
  try {
    Read(path, &report);
  } catch (const segtune::FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a FormatError reading " << path;
  return "";
}

// The fixture folder copied to `dir`, with the images it references as files.
void CopyFixtureWithImages(const fs::path& dir) {
  fs::copy(Fixture(), dir, fs::copy_options::recursive);
  std::vector<uint8_t> gray(100 * 80, 90);
  fs::create_directories(dir / "images");
  segtune::WriteFileAtomic(dir / "images" / "hall.png", segtune::EncodeGrayPng(gray.data(), 80, 100));
}

TEST(LabelMe, ReadsFolderWithGroupsRectanglesCirclesAndEmbeddedImage) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(Fixture(), &report);
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[0].file_name, "kitchen.png");
  EXPECT_EQ(d.coco.images[0].width, 12);
  EXPECT_EQ(d.coco.images[0].height, 9);
  EXPECT_EQ(d.coco.images[1].file_name, "images/hall.png") << "..\\images\\hall.png relative to sub/";
  EXPECT_EQ(d.images_dir, Fixture());
  ASSERT_EQ(d.embedded_images.count("kitchen.png"), 1u);
  EXPECT_EQ(segtune::DetectImageFormat(d.embedded_images.at("kitchen.png")), segtune::ImageFormat::kPng);

  ASSERT_EQ(d.coco.annotations.size(), 5u) << "cup, plate (2 shapes, 1 group), knife, bowl; hall's cup";
  const auto& cup = d.coco.annotations[0];
  EXPECT_EQ(CategoryName(d.coco, cup.category_id), "cup");
  EXPECT_EQ(cup.segmentation.polygons, (std::vector<std::vector<double>>{{1, 1, 4, 1, 4, 3.5, 1, 3.5}}));
  EXPECT_EQ(cup.bbox, (std::array<double, 4>{1, 1, 3, 2.5}));
  const auto& plate = d.coco.annotations[1];
  EXPECT_EQ(CategoryName(d.coco, plate.category_id), "plate");
  ASSERT_EQ(plate.segmentation.polygons.size(), 2u) << "group_id 1 merges the two polygons";
  EXPECT_EQ(plate.bbox, (std::array<double, 4>{5, 1, 3, 7}));
  const auto& knife = d.coco.annotations[2];
  EXPECT_TRUE(knife.segmentation.empty()) << "a rectangle stays a box";
  EXPECT_EQ(knife.bbox, (std::array<double, 4>{9, 2, 1.5, 5}));
  EXPECT_DOUBLE_EQ(knife.area, 7.5);
  const auto& bowl = d.coco.annotations[3];
  ASSERT_EQ(bowl.segmentation.polygons.size(), 1u);
  EXPECT_EQ(bowl.segmentation.polygons[0].size(), 64u) << "a 32-point polygon";
  EXPECT_NEAR(bowl.bbox[0], 1, 1e-9);
  EXPECT_NEAR(bowl.bbox[2], 4, 1e-9);
  EXPECT_EQ(d.coco.annotations[4].image_id.text, d.coco.images[1].id.text);
  EXPECT_EQ(d.coco.categories.size(), 4u);
  EXPECT_TRUE(Warned(report, "kitchen.json: image 'kitchen.png': shapes[5]: shape_type 'line' is not a region"));
  EXPECT_TRUE(Warned(report, "shapes[6]: shape_type 'point'"));
  EXPECT_TRUE(Warned(report, "shapes[4]: circle kept as a 32-point polygon"));
  EXPECT_TRUE(Warned(report, "shapes[0]: description dropped"));
  EXPECT_TRUE(Warned(report, "shapes[0]: flag 'dirty' dropped"));
  EXPECT_FALSE(Warned(report, "flag 'empty'")) << "false flags carry nothing";
}

TEST(LabelMe, ReadsOneFile) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(Fixture("sub/hall.json"), &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].file_name, "../images/hall.png");
  EXPECT_EQ(d.images_dir, Fixture("sub"));
  EXPECT_EQ(d.coco.annotations.size(), 1u);
}

TEST(LabelMe, RoundTripThroughCocoKeepsShapesAndGroups) {
  TempDir dir;
  segtune::ConversionReport report;
  const segtune::LabeledDataset original = Read(Fixture(), &report);
  segtune::SaveCoco(original.coco, dir / "coco.json");
  segtune::LabeledDataset via_coco;
  via_coco.coco = segtune::LoadCoco(dir / "coco.json");
  via_coco.images_dir = original.images_dir;
  segtune::WriteLabelMe(via_coco, dir / "out", {}, &report);
  const nlohmann::json kitchen = nlohmann::json::parse(segtune::ReadFile(dir / "out" / "kitchen.json"));
  EXPECT_TRUE(kitchen["imageData"].is_null());
  EXPECT_EQ(fs::weakly_canonical(dir / "out" / kitchen["imagePath"].get<std::string>()),
            fs::weakly_canonical(Fixture("kitchen.png"))) << "imagePath is relative to the JSON file";
  EXPECT_EQ(kitchen["shapes"][3]["shape_type"], "rectangle");
  EXPECT_EQ(kitchen["shapes"][1]["group_id"], kitchen["shapes"][2]["group_id"]);
  EXPECT_FALSE(kitchen["shapes"][1]["group_id"].is_null());
  EXPECT_TRUE(kitchen["shapes"][0]["group_id"].is_null());

  // The writer puts every image's file into one folder (hall.json sorts first): compare per image.
  const segtune::LabeledDataset back = Read(dir / "out", &report);
  const auto by_image = [](const segtune::LabeledDataset& d) {
    std::map<std::string, std::vector<const segtune::CocoAnnotation*>> out;
    for (const auto& image : d.coco.images) {
      for (const auto& a : d.coco.annotations) {
        if (a.image_id == image.id) out[fs::path(image.file_name).filename().string()].push_back(&a);
      }
    }
    return out;
  };
  const auto want = by_image(original), got = by_image(back);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [image, annotations] : want) {
    ASSERT_EQ(got.at(image).size(), annotations.size()) << image;
    for (size_t i = 0; i < annotations.size(); ++i) {
      const auto& a = *annotations[i];
      const auto& b = *got.at(image)[i];
      EXPECT_EQ(CategoryName(back.coco, b.category_id), CategoryName(original.coco, a.category_id)) << image << i;
      EXPECT_EQ(b.segmentation.polygons, a.segmentation.polygons) << image << i;
      EXPECT_EQ(b.bbox, a.bbox) << image << i;
    }
  }
}

TEST(LabelMe, MasksAreTracedHolesDroppedRegionsGrouped) {
  TempDir dir;
  std::vector<uint8_t> pixels(40 * 30, 0);
  for (int y = 2; y < 20; ++y) {
    for (int x = 2; x < 20; ++x) pixels[y * 40 + x] = (x >= 8 && x < 14 && y >= 8 && y < 14) ? 0 : 1;  // A ring.
  }
  for (int y = 22; y < 28; ++y) {
    for (int x = 25; x < 38; ++x) pixels[y * 40 + x] = 1;
  }
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "stain", "", {}});
  d.coco.images.push_back({{"1", true}, "floor.png", 40, 30, "", "", {}});
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = {"1", true}, a.category_id = 1;
  a.segmentation.rle = segtune::RleEncode(pixels.data(), 30, 40);
  d.coco.annotations.push_back(a);
  segtune::ConversionReport report;
  segtune::WriteLabelMe(d, dir / "out", {}, &report);
  const nlohmann::json doc = nlohmann::json::parse(segtune::ReadFile(dir / "out" / "floor.json"));
  ASSERT_EQ(doc["shapes"].size(), 2u) << doc.dump();
  EXPECT_EQ(doc["shapes"][0]["group_id"], 1);
  EXPECT_EQ(doc["shapes"][1]["group_id"], 1) << "two regions of one instance share a group_id";
  EXPECT_TRUE(Warned(report, "image 'floor.png': annotation 1: 1 hole(s) of the mask dropped"));
  const segtune::LabeledDataset back = Read(dir / "out", &report);
  ASSERT_EQ(back.coco.annotations.size(), 1u) << "read back as one instance";
  EXPECT_EQ(back.coco.annotations[0].segmentation.polygons.size(), 2u);
  EXPECT_EQ(back.coco.annotations[0].bbox, (std::array<double, 4>{2, 2, 36, 26}));
}

// X-AnyLabeling (a LabelMe fork) writes a rectangle's 4 corners; LabelMe itself writes 2.
TEST(LabelMe, RectangleOfFourCornersIsTheirExtent) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "a.json", R"({"shapes": [{"label": "x", "shape_type": "rectangle",
    "points": [[10, 5], [30, 5], [30, 25], [10, 25]]}], "imagePath": "a.png", "imageWidth": 40, "imageHeight": 30})");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = segtune::ReadAnnotations(dir / "a.json", "labelme", {}, &report);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  EXPECT_EQ(d.coco.annotations[0].bbox, (std::array<double, 4>{10, 5, 20, 20}));
  EXPECT_TRUE(d.coco.annotations[0].segmentation.polygons.empty());
}

// LabelMe 5 writes a mask shape as its box's corners and a PNG of the box (label_file.py); LabelMe pastes
// it at mask[y1:y2+1, x1:x2+1] (shapes_to_label).
TEST(LabelMe, MaskShapeIsPastedAtItsBoxAsAnRle) {
  TempDir dir;
  cv::Mat box(3, 4, CV_8UC1, cv::Scalar(0));
  box.at<uint8_t>(0, 0) = 1, box.at<uint8_t>(2, 3) = 1, box.at<uint8_t>(1, 1) = 1;
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", box, png));
  const std::string b64 = segtune::Base64Encode(std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  const auto write = [&](const std::string& points) {
    segtune::WriteFileAtomic(dir / "m.json", R"({"shapes": [{"label": "stain", "shape_type": "mask", "points": )" + points +
                                                 R"(, "mask": ")" + b64 + R"("}], "imagePath": "m.png", "imageWidth": 10, "imageHeight": 8})");
  };
  write("[[2, 1], [5.7, 3.2]]");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(dir / "m.json", &report);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  const segtune::CocoAnnotation& a = d.coco.annotations[0];
  ASSERT_TRUE(a.segmentation.rle.has_value());
  std::vector<uint8_t> pixels(80);
  segtune::RleDecode(*a.segmentation.rle, pixels.data());  // Row-major, as RleEncode took it.
  std::set<std::pair<int, int>> on;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 10; ++x) {
      if (pixels[size_t(y) * 10 + x]) on.insert({x, y});
    }
  }
  EXPECT_EQ(on, (std::set<std::pair<int, int>>{{2, 1}, {3, 2}, {5, 3}}));
  EXPECT_EQ(a.area, 3.0);
  EXPECT_EQ(a.bbox, (std::array<double, 4>{2, 1, 4, 3}));
  write("[[2, 1], [6, 3]]");  // A box one wider than the PNG.
  const std::string m = ThrowsFormat(dir / "m.json");
  EXPECT_NE(m.find("a 4x3 mask does not fill the box [2, 1]-[6, 3] inside the 10x8 image"), std::string::npos) << m;
}

TEST(LabelMe, MalformedInputNamesFileAndElement) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "a.json", R"({"shapes": [{"label": "x", "points": [[1, 1], [2, 2], [3, 3]]},
    {"label": "y", "points": [[1, 1], "2,2", [3, 3]], "shape_type": "polygon"}], "imagePath": "a.png"})");
  std::string m = ThrowsFormat(dir / "a.json");
  EXPECT_NE(m.find("a.json: image 'a.png': shapes[1].points[1]: expected [x, y]"), std::string::npos) << m;
  segtune::WriteFileAtomic(dir / "b.json", R"({"shapes": [{"label": "x", "shape_type": "rectangle",
    "points": [[1, 1], [2, 2], [3, 3]]}], "imagePath": "b.png"})");
  m = ThrowsFormat(dir / "b.json");
  EXPECT_NE(m.find("b.json: image 'b.png': shapes[0].points: expected 2 points for a rectangle (or its 4 corners), got 3"),
            std::string::npos) << m;
  segtune::WriteFileAtomic(dir / "c.json", R"({"shapes": [], "imagePath": "c.png", "imageData": "not base64!"})");
  m = ThrowsFormat(dir / "c.json");
  EXPECT_NE(m.find("c.json: imageData: expected the image file's bytes in base64"), std::string::npos) << m;
  segtune::WriteFileAtomic(dir / "e.json", R"({"shapes": [{"label": "x", "points": [[1, 1], [1e12, 2], [3, 3]]}],
    "imagePath": "e.png", "imageWidth": 10, "imageHeight": 10})");
  m = ThrowsFormat(dir / "e.json");
  EXPECT_NE(m.find("e.json: image 'e.png': shape 'x': polygon coordinate"), std::string::npos) << m;
  segtune::WriteFileAtomic(dir / "d.json", R"({"shapes": {}, "imagePath": "d.png"})");
  m = ThrowsFormat(dir / "d.json");
  EXPECT_NE(m.find("d.json: shapes: expected an array, got an object"), std::string::npos) << m;
}

TEST(LabelMe, HostileImagePathsNeverWriteOutsideOutputAndImagesDir) {
  TempDir dir;
  fs::create_directories(dir / "in");
  const std::string png = segtune::ReadFile(Fixture("kitchen.json"));
  nlohmann::json doc = nlohmann::json::parse(png);
  doc["imagePath"] = "../../../escape.png";
  segtune::WriteFileAtomic(dir / "in" / "a.json", doc.dump());
  doc["imagePath"] = "/tmp/segtune-absolute-escape.png";
  segtune::WriteFileAtomic(dir / "in" / "b.json", doc.dump());
  segtune::ConvertOptions options;
  options.input = dir / "in";
  options.output = dir / "out" / "coco.json";
  options.images_dir = dir / "images";
  options.to = "coco";
  const segtune::ConversionReport report = segtune::ConvertAnnotations(options);
  EXPECT_EQ(report.from, "labelme");
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"in", "out", "images"}));
  EXPECT_FALSE(fs::exists("/tmp/segtune-absolute-escape.png"));
  std::set<std::string> images;
  for (const auto& e : fs::directory_iterator(dir / "images")) images.insert(e.path().filename().string());
  EXPECT_EQ(images.size(), 2u);
  const segtune::CocoDataset coco = segtune::LoadCoco(options.output);
  for (const auto& image : coco.images) {
    EXPECT_EQ(image.file_name.find('/'), std::string::npos) << image.file_name;
    EXPECT_TRUE(images.count(image.file_name)) << image.file_name;
  }
  EXPECT_TRUE(Warned(report, "written as")) << "renamed images are reported";
}

TEST(LabelMe, AutoDetectPicksLabelMeForItsFilesAndFoldersOnly) {
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture()).name, "labelme");
  EXPECT_EQ(segtune::DetectAnnotationFormat(Fixture("kitchen.json")).name, "labelme");
  TempDir dir;
  segtune::CocoDataset coco;
  coco.images.push_back({{"1", true}, "a.jpg", 4, 4, "", "", {}});
  segtune::SaveCoco(coco, dir / "coco.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "coco.json").name, "coco");
  EXPECT_EQ(segtune::DetectLabelMe(dir / "coco.json"), 0);
  EXPECT_EQ(segtune::DetectLabelMe(dir.path()), 0) << "a folder holding a COCO file";
}

// `coco2tfrecord --from labelme` writes the records `convert --to coco` then coco2tfrecord writes.
TEST(LabelMe, Coco2TfRecordFromLabelMeMatchesConvertingToCocoFirst) {
  TempDir dir;
  CopyFixtureWithImages(dir / "lm");
  fs::remove(dir / "lm" / "sub" / "hall.json");  // Its imagePath is relative to sub/; keep one layout.
  segtune::WriteFileAtomic(dir / "lm" / "hall.json", [&] {
    nlohmann::json doc = nlohmann::json::parse(segtune::ReadFile(Fixture("sub/hall.json")));
    doc["imagePath"] = "images/hall.png";
    return doc.dump();
  }());
  const std::string lm = (dir / "lm").string();
  auto run = [](const std::string& args) {
    const auto r = segtune::testing::RunSegtune(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
  };
  // kitchen.png exists only as imageData: the direct path uses it from memory, the other extracts it.
  run("coco2tfrecord --from labelme --annotations '" + lm + "' -o '" + (dir / "direct.record").string() +
      "' --include-masks");
  run("convert --from labelme --to coco '" + lm + "' -o '" + (dir / "coco.json").string() + "' --images-dir '" + lm + "'");
  run("coco2tfrecord --annotations '" + (dir / "coco.json").string() + "' --images-dir '" + lm + "' -o '" +
      (dir / "via_coco.record").string() + "' --include-masks");
  auto records = [](const fs::path& path) {
    std::vector<std::string> out;
    segtune::TFRecordReader reader(path);
    for (std::string r; reader.Next(&r);) out.push_back(r);
    return out;
  };
  const auto direct = records(dir / "direct.record");
  EXPECT_EQ(direct.size(), 2u);
  EXPECT_EQ(direct, records(dir / "via_coco.record"));
}

// LabelMe itself takes the embedded image's own size when imageWidth/imageHeight disagree with it.
TEST(LabelMe, EmbeddedImageOfAnotherSizeThanDeclaredWinsWithAWarning) {
  TempDir dir;
  nlohmann::json file = nlohmann::json::parse(segtune::ReadFile(Fixture("kitchen.json")));
  const int width = file["imageWidth"].get<int>();
  file["imageWidth"] = width + 7;
  segtune::WriteFileAtomic(dir / "kitchen.json", file.dump());
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(dir / "kitchen.json", &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].width, width);
  EXPECT_TRUE(segtune::testing::Warned(report, "the image's size is used"));
}

TEST(LabelMe, EmbeddedImagesFeedTfRecordsFromMemory) {
  TempDir dir;
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(Fixture("kitchen.json"), &report);
  segtune::CocoToTfRecordOptions options;
  options.output = (dir / "k.record").string();
  const segtune::CocoToTfRecordReport out = segtune::ConvertLabeledDatasetToTfRecord(d, options);
  EXPECT_EQ(out.images, 1);
  EXPECT_EQ(out.annotations_written, 4);
  std::string record;
  segtune::TFRecordReader reader(dir / "k.record");
  ASSERT_TRUE(reader.Next(&record));
  EXPECT_NE(record.find(d.embedded_images.at("kitchen.png")), std::string::npos) << "image/encoded holds the bytes";
}

}  // namespace
