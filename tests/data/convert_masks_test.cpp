// Semantic mask folders (data/convert/masks_format.cpp, label_image, mask_class_table,
// cityscapes_labels): class-index, palette and colour masks, Cityscapes ids, the round trip
// through COCO, malformed input.
#include <gtest/gtest.h>

#include <functional>
#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/safe_name.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/label_image.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/image_codec.h"
#include "data/error_message.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

constexpr int kW = 24, kH = 16;

void WritePhoto(const fs::path& path, int width = kW, int height = kH) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(height, width, CV_8UC3, cv::Scalar(10, 20, 30))));
}

void WriteGray(const fs::path& path, const std::vector<uint8_t>& pixels, int width = kW, int height = kH) {
  fs::create_directories(path.parent_path());
  segtune::WriteFileAtomic(path, segtune::EncodeGrayPng(pixels.data(), height, width));
}

void Put32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(char(v >> (8 * i)));
}

void Chunk(std::string* png, const char* type, const std::string& data) {
  Put32(png, uint32_t(data.size()));
  const std::string body = std::string(type, 4) + data;
  png->append(body);
  Put32(png, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

// The Pascal VOC colour map: index bits spread over r, g, b (distinct colours for all 256 indices).
std::vector<uint32_t> VocPalette() {
  std::vector<uint32_t> palette;
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t r = 0, g = 0, b = 0, c = i;
    for (int j = 0; j < 8; ++j, c >>= 3) {
      r |= ((c >> 0) & 1) << (7 - j), g |= ((c >> 1) & 1) << (7 - j), b |= ((c >> 2) & 1) << (7 - j);
    }
    palette.push_back(r << 16 | g << 8 | b);
  }
  return palette;
}

// An 8-bit palette PNG (colour type 3), as VOC's SegmentationClass PNGs are.
void WritePalettePng(const fs::path& path, const std::vector<uint8_t>& indices) {
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr, plte, raw;
  Put32(&ihdr, kW), Put32(&ihdr, kH);
  ihdr += std::string("\x08\x03\x00\x00\x00", 5);
  for (const uint32_t c : VocPalette()) plte += {char(c >> 16), char(c >> 8), char(c)};
  for (int y = 0; y < kH; ++y) raw += '\0' + std::string(indices.begin() + y * kW, indices.begin() + (y + 1) * kW);
  Chunk(&png, "IHDR", ihdr);
  Chunk(&png, "PLTE", plte);
  Chunk(&png, "IDAT", segtune::testing::ZlibCompressed(raw));
  Chunk(&png, "IEND", "");
  fs::create_directories(path.parent_path());
  segtune::WriteFileAtomic(path, png);
}

// A 1-bit gray PNG (what PIL writes for a mode "1" image): pixel (x, y) is `on(x, y)`.
void WriteOneBitPng(const fs::path& path, const std::function<bool(int, int)>& on) {
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr, raw;
  Put32(&ihdr, kW), Put32(&ihdr, kH);
  ihdr += std::string("\x01\x00\x00\x00\x00", 5);
  for (int y = 0; y < kH; ++y) {
    raw += '\0';
    for (int x0 = 0; x0 < kW; x0 += 8) {
      uint8_t byte = 0;
      for (int b = 0; b < 8 && x0 + b < kW; ++b) byte |= uint8_t(on(x0 + b, y)) << (7 - b);
      raw += char(byte);
    }
  }
  Chunk(&png, "IHDR", ihdr);
  Chunk(&png, "IDAT", segtune::testing::ZlibCompressed(raw));
  Chunk(&png, "IEND", "");
  fs::create_directories(path.parent_path());
  segtune::WriteFileAtomic(path, png);
}

// A mask with a 255 border (VOC style), class 1 on the left block, class 2 on a right block.
std::vector<uint8_t> BorderedMask() {
  std::vector<uint8_t> m(kW * kH, 0);
  for (int y = 2; y < 10; ++y) {
    for (int x = 2; x < 8; ++x) m[y * kW + x] = 1;
  }
  for (int y = 4; y < 14; ++y) {
    for (int x = 14; x < 22; ++x) m[y * kW + x] = 2;
  }
  for (int y = 1; y < 11; ++y) m[y * kW + 1] = m[y * kW + 8] = 255;  // Border of class 1's block.
  return m;
}

std::vector<uint8_t> ReadGrayMask(const fs::path& path) {
  const cv::Mat m = segtune::DecodeImageFile(path, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(m.type(), CV_8UC1) << path;
  return std::vector<uint8_t>(m.data, m.data + m.total());
}

segtune::LabeledDataset Read(const fs::path& input, segtune::ConversionReport* report) {
  return segtune::ReadAnnotations(input, "masks", {}, report);
}

using segtune::testing::ErrorOf;

const segtune::CocoAnnotation* AnnotationOf(const segtune::LabeledDataset& d, int64_t category, const std::string& image_id) {
  for (const auto& a : d.coco.annotations) {
    if (a.category_id == category && a.image_id.text == image_id) return &a;
  }
  return nullptr;
}

// images/ + masks/ + classes.txt; masks/train/b.png is a palette PNG.
fs::path GenericFixture(const TempDir& dir) {
  const fs::path root = dir / "generic";
  WritePhoto(root / "images/train/a.jpg");
  WritePhoto(root / "images/train/b.png");
  WritePhoto(root / "images/val/c.jpg");
  WriteGray(root / "masks/train/a.png", BorderedMask());
  WritePalettePng(root / "masks/train/b.png", BorderedMask());
  std::vector<uint8_t> only_two(kW * kH, 0);
  for (int i = 0; i < 40; ++i) only_two[i] = 2;
  WriteGray(root / "masks/val/c.png", only_two);
  segtune::WriteFileAtomic(root / "classes.txt", "background\ncat\ndog\n");
  return root;
}

TEST(ConvertMasks, ReadsClassIndexAndPaletteMasksOneAnnotationPerClass) {
  TempDir dir;
  const fs::path root = GenericFixture(dir);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 2u) << "background is no category";
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(d.coco.categories[0].name, "cat");
  EXPECT_EQ(d.coco.categories[1].id, 2);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[0].file_name, "images/train/a.jpg");
  EXPECT_EQ(d.coco.images[0].width, kW);
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  EXPECT_EQ(d.subset_of_image.at("3"), "val");
  for (const std::string id : {"1", "2"}) {  // Gray and palette masks read the same.
    const segtune::CocoAnnotation* cat = AnnotationOf(d, 1, id);
    ASSERT_NE(cat, nullptr) << id;
    EXPECT_FALSE(cat->iscrowd);
    ASSERT_TRUE(cat->segmentation.rle);
    EXPECT_EQ(cat->area, 48) << id;
    EXPECT_EQ(cat->bbox, (std::array<double, 4>{2, 2, 6, 8}));
    const segtune::CocoAnnotation* dog = AnnotationOf(d, 2, id);
    ASSERT_NE(dog, nullptr);
    EXPECT_EQ(dog->area, 80);
    EXPECT_EQ(dog->bbox, (std::array<double, 4>{14, 4, 8, 10}));
    // 255 is no annotation: it travels as the image's ignore mask.
    const auto& ignore = d.coco.images[std::stoi(id) - 1].extra.at("ignore_mask");
    EXPECT_EQ(segtune::RleArea(segtune::RleFromString(ignore.at("counts"), kH, kW)), 20u);
  }
  EXPECT_EQ(AnnotationOf(d, 1, "3"), nullptr);
  EXPECT_EQ(d.coco.annotations.size(), 5u);
}

TEST(ConvertMasks, OneBitGrayMasksKeepTheirValues) {
  TempDir dir;
  const fs::path root = GenericFixture(dir);
  WriteOneBitPng(root / "masks/val/c.png", [](int x, int y) { return x < 5 && y < 4; });
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  const segtune::CocoAnnotation* cat = AnnotationOf(d, 1, "3");
  ASSERT_NE(cat, nullptr) << "value 1 is class 1 (cat), not 255 (ignore)";
  EXPECT_EQ(cat->area, 20);
  EXPECT_EQ(d.coco.images[2].extra.count("ignore_mask"), 0u);
}

TEST(ConvertMasks, RoundTripThroughCocoGivesIdenticalPixels) {
  TempDir dir;
  const fs::path root = GenericFixture(dir);
  segtune::ConvertOptions to_coco;
  to_coco.input = root;
  to_coco.output = dir / "coco.json";
  to_coco.to = "coco";
  EXPECT_EQ(segtune::ConvertAnnotations(to_coco).from, "masks");
  segtune::ConversionReport report;
  segtune::LabeledDataset d = Read(root, &report);
  d.coco = segtune::LoadCoco(dir / "coco.json");  // The JSON itself (RLE strings, ignore_mask), splits from the read.
  segtune::ConvertOptions back;
  back.output = dir / "out";
  back.to = "masks";
  segtune::WriteAnnotations(d, back, &report);
  EXPECT_EQ(segtune::ReadFile(dir / "out/classes.txt"), "background\ncat\ndog\n");
  EXPECT_EQ(ReadGrayMask(dir / "out/masks/train/a.png"), BorderedMask());
  EXPECT_EQ(ReadGrayMask(dir / "out/masks/train/b.png"), BorderedMask()) << "palette indices become gray values";
  EXPECT_EQ(ReadGrayMask(dir / "out/masks/val/c.png"), ReadGrayMask(root / "masks/val/c.png"));
  EXPECT_TRUE(fs::is_regular_file(dir / "out/images/val/c.jpg"));
}

TEST(ConvertMasks, ReadsColourMasksWithCvatLabelmapAndCamvidClassDict) {
  TempDir dir;
  const fs::path root = dir / "cvat";
  fs::create_directories(root);
  fs::copy_file(segtune::testing::SourcePath("tests/data/fixtures/convert/masks/labelmap.txt"), root / "labelmap.txt");
  WritePhoto(root / "images/a.jpg");
  cv::Mat rgb(kH, kW, CV_8UC3, cv::Scalar(0, 0, 0));  // OpenCV writes BGR.
  rgb(cv::Rect(0, 0, kW, 4)).setTo(cv::Scalar(128, 64, 128));   // road (128,64,128)
  rgb(cv::Rect(3, 6, 5, 5)).setTo(cv::Scalar(142, 0, 0));       // car (0,0,142)
  rgb(cv::Rect(20, 10, 4, 6)).setTo(cv::Scalar(255, 255, 255)); // void
  fs::create_directories(root / "masks");
  ASSERT_TRUE(cv::imwrite((root / "masks/a.png").string(), rgb));
  segtune::ConversionReport report;
  segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].name, "road");
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(AnnotationOf(d, 1, "1")->area, kW * 4);
  EXPECT_EQ(AnnotationOf(d, 2, "1")->area, 25);
  EXPECT_EQ(segtune::RleArea(segtune::RleFromString(d.coco.images[0].extra.at("ignore_mask").at("counts"), kH, kW)), 24u);

  // The same picture with CamVid's class_dict.csv: Void is ignore, and index 0 is a real class, so
  // ids start at 1.
  fs::remove(root / "labelmap.txt");
  fs::copy_file(segtune::testing::SourcePath("tests/data/fixtures/convert/masks/class_dict.csv"), root / "class_dict.csv");
  cv::Mat camvid(kH, kW, CV_8UC3, cv::Scalar(128, 128, 128));  // Sky
  camvid(cv::Rect(0, 8, kW, 8)).setTo(cv::Scalar(0, 0, 128));    // Building (128,0,0)
  camvid(cv::Rect(0, 0, 2, 2)).setTo(cv::Scalar(0, 0, 0));       // Void
  ASSERT_TRUE(cv::imwrite((root / "masks/a.png").string(), camvid));
  d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(d.coco.categories[0].name, "Sky");
  EXPECT_EQ(AnnotationOf(d, 1, "1")->area, kW * 8 - 4);
  EXPECT_EQ(AnnotationOf(d, 2, "1")->area, kW * 8);

  camvid.at<cv::Vec3b>(5, 7) = cv::Vec3b(1, 2, 3);
  ASSERT_TRUE(cv::imwrite((root / "masks/a.png").string(), camvid));
  const std::string e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "masks/a.png").string() + ": pixel (7, 5): colour 3,2,1 is not in the colour table"), std::string::npos) << e;
}

TEST(ConvertMasks, ReadsKaggleCamvidSplitFoldersWithLabelSuffix) {
  TempDir dir;
  const fs::path root = dir / "CamVid";
  fs::create_directories(root);
  fs::copy_file(segtune::testing::SourcePath("tests/data/fixtures/convert/masks/class_dict.csv"), root / "class_dict.csv");
  cv::Mat camvid(kH, kW, CV_8UC3, cv::Scalar(128, 128, 128));  // Sky
  camvid(cv::Rect(0, 0, 3, 3)).setTo(cv::Scalar(0, 0, 128));     // Building
  for (const std::string split : {"train", "val"}) {
    WritePhoto(root / split / "0001TP_006690.png");
    fs::create_directories(root / (split + "_labels"));
    ASSERT_TRUE(cv::imwrite((root / (split + "_labels") / "0001TP_006690_L.png").string(), camvid));
  }
  EXPECT_EQ(segtune::DetectAnnotationFormat(root).name, "masks");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[0].file_name, "train/0001TP_006690.png");
  EXPECT_EQ(d.subset_of_image.at("2"), "val");
  EXPECT_EQ(AnnotationOf(d, 2, "1")->area, 9) << "Building";
  EXPECT_EQ(AnnotationOf(d, 1, "2")->area, kW * kH - 9) << "Sky";
  EXPECT_TRUE(report.warnings.empty());
}

// Cityscapes: gtFine/<split>/<city>/<frame>_gtFine_{labelIds,instanceIds}.png + leftImg8bit/.
fs::path CityscapesFixture(const TempDir& dir) {
  const fs::path root = dir / "cityscapes";
  const fs::path gt = root / "gtFine/train/aachen";
  WritePhoto(root / "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png");
  WritePhoto(root / "leftImg8bit/val/bonn/bonn_000001_000019_leftImg8bit.png");
  cv::Mat instances(kH, kW, CV_16UC1, cv::Scalar(7));        // road
  instances(cv::Rect(0, 0, kW, 2)).setTo(cv::Scalar(0));      // unlabeled: ignore
  instances(cv::Rect(2, 4, 4, 4)).setTo(cv::Scalar(26000));   // car #0
  instances(cv::Rect(10, 4, 3, 3)).setTo(cv::Scalar(26001));  // car #1
  instances(cv::Rect(16, 4, 2, 5)).setTo(cv::Scalar(24));     // a group of persons: crowd
  instances(cv::Rect(20, 10, 2, 2)).setTo(cv::Scalar(29000)); // caravan: ignoreInEval
  fs::create_directories(gt);
  EXPECT_TRUE(cv::imwrite((gt / "aachen_000000_000019_gtFine_instanceIds.png").string(), instances));
  // labelIds beside it (all road here): not read, since the instanceIds are richer.
  EXPECT_TRUE(cv::imwrite((gt / "aachen_000000_000019_gtFine_labelIds.png").string(), cv::Mat(kH, kW, CV_8UC1, cv::Scalar(7))));
  std::vector<uint8_t> train_ids(kW * kH, 10);  // sky
  for (int i = 0; i < kW; ++i) train_ids[i] = 255;
  for (int i = kW; i < 3 * kW; ++i) train_ids[i] = 13;  // car
  WriteGray(root / "gtFine/val/bonn/bonn_000001_000019_gtFine_labelTrainIds.png", train_ids);
  return root;
}

TEST(ConvertMasks, ReadsCityscapesInstanceIdsAndTrainIds) {
  TempDir dir;
  const fs::path root = CityscapesFixture(dir);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  EXPECT_EQ(d.coco.categories.size(), 19u) << "the classes Cityscapes evaluates";
  EXPECT_EQ(d.coco.categories[0].id, 7);
  EXPECT_EQ(d.coco.categories[0].name, "road");
  EXPECT_EQ(d.coco.categories[0].supercategory, "flat");
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[0].file_name, "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png");
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  std::vector<const segtune::CocoAnnotation*> cars, persons, roads;
  for (const auto& a : d.coco.annotations) {
    if (a.image_id.text != "1") continue;
    (a.category_id == 26 ? cars : a.category_id == 24 ? persons : roads).push_back(&a);
  }
  ASSERT_EQ(cars.size(), 2u) << "one annotation per instance";
  EXPECT_EQ(cars[0]->area, 16);
  EXPECT_EQ(cars[1]->area, 9);
  EXPECT_FALSE(cars[0]->iscrowd);
  ASSERT_EQ(persons.size(), 1u);
  EXPECT_TRUE(persons[0]->iscrowd) << "instance-class pixels without an instance id are a crowd";
  ASSERT_EQ(roads.size(), 1u);
  EXPECT_EQ(roads[0]->category_id, 7);
  EXPECT_EQ(roads[0]->area, kW * kH - 2 * kW - 16 - 9 - 10 - 4);
  EXPECT_EQ(segtune::RleArea(segtune::RleFromString(d.coco.images[0].extra.at("ignore_mask").at("counts"), kH, kW)),
            uint64_t(2 * kW + 4)) << "unlabeled and caravan";
  // labelTrainIds map back to label ids: train id 13 is car (26), 10 is sky (23).
  const segtune::CocoAnnotation* car = AnnotationOf(d, 26, "2");
  ASSERT_NE(car, nullptr);
  EXPECT_EQ(car->area, 2 * kW);
  EXPECT_NE(AnnotationOf(d, 23, "2"), nullptr);
}

TEST(ConvertMasks, WriterPaintsSmallerAnnotationsOverLargerOnesAndWarns) {
  TempDir dir;
  WritePhoto(dir / "in/p.jpg");
  segtune::LabeledDataset d;
  d.images_dir = dir / "in";
  d.coco.categories = {{5, "table", "", {}}, {6, "bottle", "", {}}};
  segtune::CocoImage image;
  image.id = {"1", true};
  image.file_name = "p.jpg";
  image.width = kW, image.height = kH;
  d.coco.images.push_back(image);
  segtune::CocoAnnotation bottle, table;
  bottle.id = 1, bottle.image_id = image.id, bottle.category_id = 6, bottle.area = 1000;  // A stale area.
  bottle.segmentation.polygons = {{4, 4, 8, 4, 8, 8, 4, 8}};
  table.id = 2, table.image_id = image.id, table.category_id = 5;  // Listed after, no area: would cover.
  table.segmentation.polygons = {{0, 0, 20, 0, 20, 10, 0, 10}};
  d.coco.annotations = {bottle, table};
  segtune::ConversionReport report;
  segtune::ConvertOptions options;
  options.output = dir / "out";
  options.to = "masks";
  segtune::WriteAnnotations(d, options, &report);
  const std::vector<uint8_t> m = ReadGrayMask(dir / "out/masks/p.png");
  EXPECT_EQ(m[5 * kW + 5], 2) << "bottle (index 2) stays on the table";
  EXPECT_EQ(m[1 * kW + 1], 1) << "table";
  EXPECT_EQ(m[12 * kW + 22], 0) << "background";
  EXPECT_EQ(segtune::ReadFile(dir / "out/classes.txt"), "background\ntable\nbottle\n");
  bool warned = false;
  for (const auto& w : report.warnings) warned |= w.message.find("16 pixel(s) claimed by overlapping") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(ConvertMasks, MalformedInputNamesTheFileAndWhere) {
  TempDir dir;
  const fs::path root = GenericFixture(dir);
  segtune::ConversionReport report;
  std::vector<uint8_t> bad = BorderedMask();
  bad[3] = 7;
  WriteGray(root / "masks/val/c.png", bad);
  std::string e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "masks/val/c.png").string() + ": class index 7 but classes.txt lists 3 classes"), std::string::npos) << e;

  WriteGray(root / "masks/val/c.png", BorderedMask(), kW / 2, kH * 2);
  e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "masks/val/c.png").string() + ": mask is 12x32 but its image"), std::string::npos) << e;

  WriteGray(root / "masks/val/c.png", BorderedMask());
  segtune::WriteFileAtomic(root / "classes.txt", "background\n\ndog\n");
  e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "classes.txt").string() + ": line 2: empty class name"), std::string::npos) << e;

  segtune::WriteFileAtomic(root / "classes.txt", "background\ncat\ndog\n");
  ASSERT_TRUE(cv::imwrite((root / "masks/val/c.png").string(), cv::Mat(kH, kW, CV_8UC3, cv::Scalar(1, 2, 3))));
  e = ErrorOf([&] { Read(root, &report); });
  EXPECT_NE(e.find((root / "masks/val/c.png").string() + ": a 3-channel image: expected an 8-bit class-index"), std::string::npos) << e;

  const fs::path city = CityscapesFixture(dir);
  std::vector<uint8_t> odd(kW * kH, 40);
  WriteGray(city / "gtFine/val/bonn/bonn_000001_000019_gtFine_labelTrainIds.png", odd);
  e = ErrorOf([&] { Read(city, &report); });
  EXPECT_NE(e.find("bonn_000001_000019_gtFine_labelTrainIds.png: value 40 is not a Cityscapes train id"), std::string::npos) << e;
}

TEST(ConvertMasks, WriterNamesTheAnnotationWhosePolygonCannotBeRasterized) {
  TempDir dir;
  segtune::LabeledDataset d;
  d.coco.categories = {{1, "a", "", {}}};
  segtune::CocoImage image;
  image.id = {"1", true};
  image.file_name = "p.jpg";
  image.width = kW, image.height = kH;
  d.coco.images.push_back(image);
  segtune::CocoAnnotation a;
  a.id = 7, a.image_id = image.id, a.category_id = 1;
  a.segmentation.polygons = {{0, 0, 1e300, 0, 1e300, 1e300}};
  d.coco.annotations.push_back(a);
  segtune::ConversionReport report;
  segtune::ConvertOptions options;
  options.output = dir / "out";
  options.to = "masks";
  options.check_images = false;
  const std::string e = ErrorOf([&] { segtune::WriteAnnotations(d, options, &report); });
  EXPECT_NE(e.find("image 'p.jpg': annotation 7: polygon coordinate"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(ConvertMasks, HostileNamesStayInsideTheOutputAndAreReported) {
  TempDir dir;
  WritePhoto(dir / "in/x.jpg");
  segtune::LabeledDataset d;
  d.images_dir = dir / "in";
  d.coco.categories = {{1, "a\nb", "", {}}};
  for (const std::string& name : std::vector<std::string>{"../../x.jpg", (dir / "in/x.jpg").string(), ".hidden.jpg"}) {
    segtune::CocoImage image;
    image.id = {std::to_string(d.coco.images.size() + 1), true};
    image.file_name = name;
    image.width = kW, image.height = kH;
    d.coco.images.push_back(image);
    d.subset_of_image[image.id.text] = "/etc";
  }
  segtune::ConversionReport report;
  segtune::ConvertOptions options;
  options.output = dir / "out";
  options.to = "masks";
  options.check_images = false;
  segtune::WriteAnnotations(d, options, &report);
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    const std::string p = entry.path().string();
    EXPECT_TRUE(p.rfind((dir / "out").string(), 0) == 0 || p.rfind((dir / "in").string(), 0) == 0) << p;
  }
  const fs::path split = dir / "out/masks" / segtune::SanitizeFileName("/etc");
  int masks = 0;
  for (const auto& entry : fs::directory_iterator(split)) masks += entry.path().extension() == ".png";
  EXPECT_EQ(masks, 3);
  EXPECT_TRUE(fs::is_regular_file(dir / "out/masks" / segtune::SanitizeFileName("/etc") / "hidden.png"));
  EXPECT_EQ(segtune::ReadFile(dir / "out/classes.txt"), "background\nclass_1\n") << "a line break cannot be in classes.txt";
}

TEST(ConvertMasks, AUserMaskFolderIsNeverReplacedEvenWithOverwrite) {
  TempDir dir;
  const fs::path root = GenericFixture(dir);
  segtune::ConvertOptions options;
  options.input = root;
  options.to = "masks";
  options.output = root;
  options.write.overwrite = true;
  const std::string e = ErrorOf([&] { segtune::ConvertAnnotations(options); });
  EXPECT_NE(e.find("is not a segtune convert mask folder output"), std::string::npos) << e;
  EXPECT_EQ(ReadGrayMask(root / "masks/train/a.png"), BorderedMask());
  options.output = dir / "out";
  segtune::ConvertAnnotations(options);
  segtune::ConvertAnnotations(options);
  EXPECT_EQ(ReadGrayMask(dir / "out/masks/train/a.png"), BorderedMask());
}

TEST(ConvertMasks, AutoDetectsMaskFoldersAndNotCoco) {
  TempDir dir;
  EXPECT_EQ(segtune::DetectAnnotationFormat(GenericFixture(dir)).name, "masks");
  EXPECT_EQ(segtune::DetectAnnotationFormat(CityscapesFixture(dir)).name, "masks");
  segtune::SaveCoco(segtune::CocoDataset{}, dir / "c.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "c.json").name, "coco");
  EXPECT_EQ(segtune::FindAnnotationFormat("masks").detect(dir / "c.json"), 0);
  EXPECT_EQ(segtune::FindAnnotationFormat("yolo").detect(dir / "generic"), 0);
  EXPECT_EQ(segtune::FindAnnotationFormat("masks").detect(dir / "generic/images"), 0);
}

TEST(ConvertMasks, RlesByValueMatchesOneRleEncodePerValue) {
  segtune::LabelImage image{5, 3, {0, 1, 1, 2, 2, 1, 1, 0, 2, 2, 0, 0, 0, 7, 7}};
  const auto rles = segtune::RlesByValue(image);
  ASSERT_EQ(rles.size(), 4u);
  for (const auto& [value, rle] : rles) {
    std::vector<uint8_t> binary(15);
    for (size_t i = 0; i < 15; ++i) binary[i] = image.values[i] == value;
    EXPECT_EQ(rle, segtune::RleEncode(binary.data(), 3, 5)) << value;
  }
  // Runs that cross columns, values present once: a pseudo-random 23 x 37 image with 5 values.
  segtune::LabelImage big{37, 23, std::vector<int32_t>(37 * 23)};
  uint32_t state = 21;
  for (auto& v : big.values) v = (state = state * 1103515245u + 12345u) >> 29 < 3 ? 1000 : int32_t(state >> 30);
  for (const auto& [value, rle] : segtune::RlesByValue(big)) {
    std::vector<uint8_t> binary(big.values.size());
    for (size_t i = 0; i < binary.size(); ++i) binary[i] = big.values[i] == value;
    EXPECT_EQ(rle, segtune::RleEncode(binary.data(), 23, 37)) << value;
  }
}

}  // namespace
