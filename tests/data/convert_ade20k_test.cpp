// ADE20K semantic masks in the mask-folder reader (data/convert/ade20k_masks.cpp, label_image,
// mask_class_table): the SceneParsing layout (ADEChallengeData2016) with objectInfo150.csv or .txt,
// 0 = other/unlabeled, values above the table, missing annotations and images; the full dataset's
// RGB _seg.png (class = R / 10 * 256 + G, instance = B); auto-detection; the round trip through
// COCO to class-index masks.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "convert_test_util.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/image_codec.h"
#include "data/error_message.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;
using segtune::testing::Warned;

constexpr int kW = 24, kH = 16;

void WritePhoto(const fs::path& path) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(kH, kW, CV_8UC3, cv::Scalar(10, 20, 30))));
}

void WriteGray(const fs::path& path, const std::vector<uint8_t>& pixels) {
  fs::create_directories(path.parent_path());
  segtune::WriteFileAtomic(path, segtune::EncodeGrayPng(pixels.data(), kH, kW));
}

std::vector<uint8_t> ReadGrayMask(const fs::path& path) {
  const cv::Mat m = segtune::DecodeImageFile(path, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(m.type(), CV_8UC1) << path;
  return std::vector<uint8_t>(m.data, m.data + m.total());
}

// Rows 0-3 unlabeled (0), a wall (1) block at the left, building (2) at the right, sky (3) below.
std::vector<uint8_t> SceneMask() {
  std::vector<uint8_t> m(kW * kH, 3);
  for (int x = 0; x < 4 * kW; ++x) m[x] = 0;
  for (int y = 4; y < 10; ++y) {
    for (int x = 0; x < 10; ++x) m[y * kW + x] = 1;
    for (int x = 12; x < 24; ++x) m[y * kW + x] = 2;
  }
  return m;
}

void CopyFixture(const std::string& name, const fs::path& to) {
  fs::copy_file(segtune::testing::SourcePath("tests/data/fixtures/convert/ade20k/" + name), to,
                fs::copy_options::overwrite_existing);
}

// ADEChallengeData2016: ADE_train_00000002.jpg has no annotation, ADE_val_00000002.png no image.
fs::path SceneParsingFixture(const TempDir& dir) {
  const fs::path root = dir / "ADEChallengeData2016";
  WritePhoto(root / "images/training/ADE_train_00000001.jpg");
  WritePhoto(root / "images/training/ADE_train_00000002.jpg");
  WritePhoto(root / "images/validation/ADE_val_00000001.jpg");
  WriteGray(root / "annotations/training/ADE_train_00000001.png", SceneMask());
  std::vector<uint8_t> floor(kW * kH, 4);
  floor[5] = 0;
  WriteGray(root / "annotations/validation/ADE_val_00000001.png", floor);
  WriteGray(root / "annotations/validation/ADE_val_00000002.png", floor);
  CopyFixture("objectInfo150.csv", root / "objectInfo150.csv");
  segtune::WriteFileAtomic(root / "sceneCategories.txt", "ADE_train_00000001 airport_terminal\nADE_val_00000001 bathroom\n");
  return root;
}

segtune::LabeledDataset Read(const fs::path& input, segtune::ConversionReport* report) {
  return segtune::ReadAnnotations(input, "masks", {}, report);
}

using segtune::testing::ErrorOf;

std::vector<const segtune::CocoAnnotation*> AnnotationsOf(const segtune::LabeledDataset& d, int64_t category,
                                                         const std::string& image_id) {
  std::vector<const segtune::CocoAnnotation*> out;
  for (const auto& a : d.coco.annotations) {
    if (a.category_id == category && a.image_id.text == image_id) out.push_back(&a);
  }
  return out;
}

uint64_t IgnoredPixels(const segtune::CocoImage& image) {
  const auto& ignore = image.extra.at("ignore_mask");
  return segtune::RleArea(segtune::RleFromString(ignore.at("counts"), kH, kW));
}

TEST(ConvertAde20k, ReadsSceneParsingClassesSplitsAndUnlabeledAsIgnore) {
  TempDir dir;
  const fs::path root = SceneParsingFixture(dir);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 5u) << "0 (other) is no category";
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(d.coco.categories[0].name, "wall");
  EXPECT_EQ(d.coco.categories[1].name, "building;edifice") << "the whole Name field";
  EXPECT_EQ(d.coco.categories[4].id, 5);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[0].file_name, "images/training/ADE_train_00000001.jpg");
  EXPECT_EQ(d.coco.images[0].extra.at("scene"), "airport_terminal");
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  EXPECT_EQ(d.subset_of_image.at("2"), "val");
  ASSERT_EQ(AnnotationsOf(d, 1, "1").size(), 1u);
  EXPECT_EQ(AnnotationsOf(d, 1, "1")[0]->area, 60);
  EXPECT_EQ(AnnotationsOf(d, 1, "1")[0]->bbox, (std::array<double, 4>{0, 4, 10, 6}));
  EXPECT_EQ(AnnotationsOf(d, 2, "1")[0]->area, 72);
  EXPECT_EQ(AnnotationsOf(d, 3, "1")[0]->area, kW * kH - 4 * kW - 132);
  EXPECT_EQ(IgnoredPixels(d.coco.images[0]), uint64_t(4 * kW)) << "0 = other/unlabeled travels as ignore";
  EXPECT_EQ(IgnoredPixels(d.coco.images[1]), 1u);
  EXPECT_EQ(AnnotationsOf(d, 4, "2")[0]->area, kW * kH - 1);
  // The photo without an annotation is left out and named; the annotation without a photo is kept.
  EXPECT_TRUE(Warned(report, "ADE_train_00000002.jpg: no annotation " +
                                 (root / "annotations/training/ADE_train_00000002.png").string() + "; image left out"));
  EXPECT_EQ(d.coco.images[2].file_name, "images/validation/ADE_val_00000002.jpg");

  // A test folder without annotations (ADE20K's release_test): one warning for the folder.
  WritePhoto(root / "images/testing/ADE_test_00000001.jpg");
  WritePhoto(root / "images/testing/ADE_test_00000002.jpg");
  report = {};
  EXPECT_EQ(Read(root, &report).coco.images.size(), 3u);
  EXPECT_TRUE(Warned(report, (root / "images/testing").string() + ": no annotations/testing folder; its 2 image(s) left out"));
}

TEST(ConvertAde20k, AnAnnotationWithoutItsImageIsListedByTheMissingImageCheck) {
  TempDir dir;
  const fs::path root = SceneParsingFixture(dir);
  segtune::ConvertOptions options;
  options.input = root;
  options.output = dir / "coco.json";
  options.to = "coco";
  const std::string e = ErrorOf([&] { segtune::ConvertAnnotations(options); });
  EXPECT_NE(e.find("images/validation/ADE_val_00000002.jpg"), std::string::npos) << e;
  options.skip_missing = true;
  const segtune::ConversionReport report = segtune::ConvertAnnotations(options);
  EXPECT_EQ(report.from, "masks");
  EXPECT_EQ(report.skipped_images, 1);
  EXPECT_EQ(segtune::LoadCoco(dir / "coco.json").images.size(), 2u);
}

TEST(ConvertAde20k, AClassAboveTheTableNamesTheFilePixelAndValue) {
  TempDir dir;
  const fs::path root = SceneParsingFixture(dir);
  std::vector<uint8_t> mask = SceneMask();
  mask[6 * kW + 20] = 151;
  WriteGray(root / "annotations/training/ADE_train_00000001.png", mask);
  segtune::ConversionReport report;
  const std::string e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "annotations/training/ADE_train_00000001.png").string() +
                   ": pixel (20, 6): class index 151 but objectInfo150.csv lists 5 classes (0 = other/unlabeled)"),
            std::string::npos) << e;
}

TEST(ConvertAde20k, DevkitTabTableAndNoTableAtAll) {
  TempDir dir;
  const fs::path root = SceneParsingFixture(dir);
  fs::remove(root / "objectInfo150.csv");
  CopyFixture("objectInfo150.txt", root / "objectInfo150.txt");
  segtune::ConversionReport report;
  segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 5u);
  EXPECT_EQ(d.coco.categories[1].name, "building, edifice");

  fs::remove(root / "objectInfo150.txt");
  report = {};
  d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 4u) << "the values present: 1, 2, 3, 4";
  EXPECT_EQ(d.coco.categories[3].id, 4);
  EXPECT_EQ(d.coco.categories[3].name, "class_4");
  EXPECT_TRUE(Warned(report, "no objectInfo150.csv (or objectInfo150.txt): classes named class_<N>"));
}

TEST(ConvertAde20k, MalformedObjectInfoNamesTheFileAndLine) {
  TempDir dir;
  const fs::path root = SceneParsingFixture(dir);
  segtune::ConversionReport report;
  segtune::WriteFileAtomic(root / "objectInfo150.csv", "Idx,Ratio,Train,Val,Name\n1,0.1,1,1,wall\n3,0.1,1,1,sky\n");
  std::string e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "objectInfo150.csv").string() + ": line 3: Idx '3': expected 2"), std::string::npos) << e;
  segtune::WriteFileAtomic(root / "objectInfo150.csv", "Ratio,Train,Val\n");
  e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "objectInfo150.csv").string() + ": line 1: expected a header naming the columns Idx and Name"),
            std::string::npos) << e;
}

TEST(ConvertAde20k, RoundTripThroughCocoGivesTheSameClassIndices) {
  TempDir dir;
  const fs::path root = SceneParsingFixture(dir);
  fs::remove(root / "annotations/validation/ADE_val_00000002.png");
  segtune::ConvertOptions options;
  options.input = root;
  options.output = dir / "coco.json";
  options.to = "coco";
  segtune::ConvertAnnotations(options);
  segtune::ConversionReport report;
  segtune::LabeledDataset d = Read(root, &report);
  d.coco = segtune::LoadCoco(dir / "coco.json");
  segtune::ConvertOptions back;
  back.output = dir / "out";
  back.to = "masks";
  segtune::WriteAnnotations(d, back, &report);
  // Categories 1..5 keep their indices; 0 (other) comes back as the writer's ignore value 255.
  std::vector<uint8_t> expected = SceneMask();
  for (auto& v : expected) v = v == 0 ? 255 : v;
  EXPECT_EQ(ReadGrayMask(dir / "out/masks/train/ADE_train_00000001.png"), expected);
  EXPECT_EQ(segtune::ReadFile(dir / "out/classes.txt"), "background\nwall\nbuilding;edifice\nsky\nfloor;flooring\ntree\n");
}

// The full dataset: RGB _seg.png beside the photo, deep below images/ADE/<split>/.
void WriteSeg(const fs::path& path, const std::function<void(cv::Mat*)>& paint) {
  cv::Mat bgr(kH, kW, CV_8UC3, cv::Scalar(0, 0, 0));  // Class 0: unlabeled.
  paint(&bgr);
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), bgr));
}

cv::Scalar Seg(int cls, int instance, int r_extra = 0) {  // BGR of class `cls`, object `instance`.
  return cv::Scalar(instance, cls % 256, (cls / 256) * 10 + r_extra);
}

fs::path FullFixture(const TempDir& dir) {
  const fs::path root = dir / "ADE20K_2021_17_01";
  const fs::path scene = root / "images/ADE/training/cultural/apse__indoor";
  WritePhoto(scene / "ADE_train_00000001.jpg");
  WriteSeg(scene / "ADE_train_00000001_seg.png", [](cv::Mat* m) {
    (*m)(cv::Rect(0, 8, kW, 8)).setTo(Seg(165, 1));      // floor-like stuff, one object
    (*m)(cv::Rect(2, 2, 4, 4)).setTo(Seg(2978, 2));      // two objects of class 2978 ...
    (*m)(cv::Rect(10, 2, 3, 3)).setTo(Seg(2978, 3, 7));  // ... R = 117 still means 11 (R / 10)
  });
  WriteSeg(scene / "ADE_train_00000001_parts_1.png", [](cv::Mat* m) { m->setTo(Seg(7, 9)); });  // Not read.
  WritePhoto(scene / "ADE_train_00000002.jpg");  // No _seg.png: left out, named.
  const fs::path val = root / "images/ADE/validation/urban/street";
  WritePhoto(val / "ADE_val_00000001.jpg");
  WriteSeg(val / "ADE_val_00000001_seg.png", [](cv::Mat* m) { m->setTo(Seg(165, 4)); });
  return root;
}

TEST(ConvertAde20k, ReadsTheFullDatasetsSegPngClassesAndInstances) {
  TempDir dir;
  const fs::path root = FullFixture(dir);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[0].file_name, "images/ADE/training/cultural/apse__indoor/ADE_train_00000001.jpg");
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  EXPECT_EQ(d.subset_of_image.at("2"), "val");
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].id, 165);
  EXPECT_EQ(d.coco.categories[0].name, "class_165");
  EXPECT_EQ(d.coco.categories[1].id, 2978);
  const auto objects = AnnotationsOf(d, 2978, "1");
  ASSERT_EQ(objects.size(), 2u) << "one annotation per object (B channel)";
  EXPECT_EQ(objects[0]->area, 16);
  EXPECT_EQ(objects[1]->area, 9);
  EXPECT_EQ(objects[1]->bbox, (std::array<double, 4>{10, 2, 3, 3}));
  EXPECT_EQ(AnnotationsOf(d, 165, "1")[0]->area, kW * 8);
  EXPECT_EQ(IgnoredPixels(d.coco.images[0]), uint64_t(kW * 8 - 25));
  EXPECT_EQ(AnnotationsOf(d, 7, "1").size(), 0u) << "part masks are not read";
  EXPECT_TRUE(Warned(report, "ADE_train_00000002.jpg: no annotation ADE_train_00000002_seg.png beside it; image left out"));
  EXPECT_TRUE(Warned(report, "no index_ade20k.pkl in it or in the three folders above it"));
}

// index_ade20k.pkl written by Python's pickle and numpy (tests/data/ade20k_index_fixture.py).
void WriteIndex(const fs::path& file, int protocol, const std::string& kind, int count) {
  const auto r = segtune::testing::RunPython("'" + segtune::testing::SourcePath("tests/data/ade20k_index_fixture.py") + "' '" +
                                             file.string() + "' " + std::to_string(protocol) + " " + kind + " " +
                                             std::to_string(count));
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

TEST(ConvertAde20k, FullDatasetClassNamesComeFromIndexAde20kPklAsPythonWritesIt) {
  TempDir dir;
  const fs::path root = FullFixture(dir);
  for (const int protocol : {2, 3, 4, 5}) {
    for (const std::string kind : {"list", "object", "unicode"}) {
      SCOPED_TRACE("protocol " + std::to_string(protocol) + ", objectnames as " + kind);
      WriteIndex(root / "index_ade20k.pkl", protocol, kind, 3000);
      segtune::ConversionReport report;
      // From the release's root and from a split folder below it (the index is three levels up).
      for (const fs::path& input : {root, root / "images/ADE/training"}) {
        const segtune::LabeledDataset d = Read(input, &report);
        ASSERT_FALSE(d.coco.categories.empty());
        std::map<int64_t, std::string> names;
        for (const auto& c : d.coco.categories) names[c.id] = c.name;
        EXPECT_EQ(names[165], "name 165") << "class v is objectnames[v - 1]";
        if (input == root) EXPECT_EQ(names[2978], "café, coffee shop");
      }
      EXPECT_FALSE(Warned(report, "index_ade20k.pkl"));
    }
  }
}

TEST(ConvertAde20k, SharedNamesGetTheirClassAndAClassBeyondTheIndexIsAnError) {
  TempDir dir;
  const fs::path root = FullFixture(dir);
  const fs::path seg = root / "images/ADE/validation/urban/street/ADE_val_00000001_seg.png";
  WriteSeg(seg, [](cv::Mat* m) {  // Classes 7 and 8 are both "rock" in the fixture's index.
    m->setTo(Seg(7, 1));
    (*m)(cv::Rect(0, 0, 4, 4)).setTo(Seg(8, 2));
  });
  WriteIndex(root / "index_ade20k.pkl", 4, "list", 3000);
  segtune::ConversionReport report;
  std::map<int64_t, std::string> names;
  for (const auto& c : Read(root, &report).coco.categories) names[c.id] = c.name;
  EXPECT_EQ(names[7], "rock (7)");
  EXPECT_EQ(names[8], "rock (8)");
  EXPECT_EQ(names[165], "name 165");
  WriteIndex(root / "index_ade20k.pkl", 4, "list", 200);  // Fewer names than class 2978 needs.
  const std::string e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find("ADE_train_00000001_seg.png"), std::string::npos) << e;
  EXPECT_NE(e.find("class 2978 but " + (root / "index_ade20k.pkl").string() + " names 200 classes"), std::string::npos) << e;
}

TEST(ConvertAde20k, AnIndexThatIsNotADictOfNamesIsAnErrorNamingIt) {
  using namespace std::string_literals;
  TempDir dir;
  const fs::path root = FullFixture(dir);
  const fs::path index = root / "index_ade20k.pkl";
  const struct {
    std::string bytes, message;
  } cases[] = {
      {"\x80\x02]q\x00."s, "holds a list, expected a dict"},
      {"\x80\x02}q\x00."s, "the dict has no \"objectnames\""},
      {"\x80\x02}(X\x0b\x00\x00\x00objectnamesK\x05u."s, "objectnames is a int, expected a list of str"},
      {"\x80\x02}(X\x0b\x00\x00\x00objectnames]K\x05" "au."s, "objectnames[0] is a int, expected a str"},
      {"\x80\x02}(X\x0b\x00\x00\x00objectnames"s, "truncated"},
  };
  for (const auto& c : cases) {
    segtune::WriteFileAtomic(index, c.bytes);
    segtune::ConversionReport report;
    const std::string e = ErrorOf([&] { Read(root, &report); });
    EXPECT_NE(e.find(index.string()), std::string::npos) << e;
    EXPECT_NE(e.find(c.message), std::string::npos) << c.message << " | " << e;
  }
}

TEST(ConvertAde20k, AGraySegPngIsAnErrorNamingTheFile) {
  TempDir dir;
  const fs::path root = FullFixture(dir);
  const fs::path seg = root / "images/ADE/validation/urban/street/ADE_val_00000001_seg.png";
  WriteGray(seg, std::vector<uint8_t>(kW * kH, 3));
  segtune::ConversionReport report;
  const std::string e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find(seg.string() + ": expected an 8-bit RGB ADE20K _seg.png"), std::string::npos) << e;
}

TEST(ConvertAde20k, AutoDetectsBothLayoutsAsMaskFoldersAndNotCoco) {
  TempDir dir;
  EXPECT_EQ(segtune::DetectAnnotationFormat(SceneParsingFixture(dir)).name, "masks");
  EXPECT_EQ(segtune::DetectAnnotationFormat(FullFixture(dir)).name, "masks");
  segtune::SaveCoco(segtune::CocoDataset{}, dir / "c.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "c.json").name, "coco");
  EXPECT_EQ(segtune::FindAnnotationFormat("masks").detect(dir / "c.json"), 0);
  // A COCO-style folder (images/ + annotations/*.json) is not ADE20K.
  // Binary masks called *_seg.png without photos of the same stem beside them are not ADE20K.
  WriteGray(dir / "medical/case1_seg.png", std::vector<uint8_t>(kW * kH, 1));
  WritePhoto(dir / "medical/case1_t1.jpg");
  EXPECT_EQ(segtune::FindAnnotationFormat("masks").detect(dir / "medical"), 0);
  fs::create_directories(dir / "cocofolder/images");
  segtune::SaveCoco(segtune::CocoDataset{}, dir / "cocofolder/annotations/instances.json");
  EXPECT_EQ(segtune::FindAnnotationFormat("masks").detect(dir / "cocofolder"), 0);
}

}  // namespace
