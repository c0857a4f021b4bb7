// YOLO datasets (data/convert/yolo_*.cpp, formats/data_yaml): Ultralytics data.yaml and Darknet
// obj.data layouts, box and segment lines, the round trip through COCO, malformed input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/safe_name.h"
#include "segtune/data/coco2tfrecord.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/yolo_labels.h"
#include "segtune/formats/data_yaml.h"
#include "segtune/formats/tfrecord.h"
#include "convert_test_util.h"
#include "data/error_message.h"
#include "data/yolo_fixture.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

using segtune::testing::DarknetFixture;
using segtune::testing::UltralyticsFixture;
using segtune::testing::WriteSolidImage;

segtune::LabeledDataset Read(const fs::path& input, segtune::ConversionReport* report) {
  return segtune::ReadAnnotations(input, "yolo", {}, report);
}

const segtune::CocoImage& ImageNamed(const segtune::LabeledDataset& d, const std::string& file_name) {
  for (const auto& image : d.coco.images) {
    if (image.file_name == file_name) return image;
  }
  throw std::runtime_error("no image " + file_name);
}

std::vector<const segtune::CocoAnnotation*> AnnotationsOf(const segtune::LabeledDataset& d, const segtune::CocoImage& image) {
  std::vector<const segtune::CocoAnnotation*> out;
  for (const auto& a : d.coco.annotations) {
    if (a.image_id == image.id) out.push_back(&a);
  }
  return out;
}

using segtune::testing::ErrorOf;

// Each line's fields reformatted as the writer formats them (class, then %.6f), blank lines dropped.
std::vector<std::string> NormalizedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    int cls;
    if (!(fields >> cls)) continue;
    std::vector<double> values;
    for (double v; fields >> v;) values.push_back(v);
    lines.push_back(segtune::FormatYoloLine(cls, values));
  }
  return lines;
}

TEST(ConvertYolo, ReadsUltralyticsBoxesSegmentsAndSplits) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.categories.size(), 3u);
  EXPECT_EQ(d.coco.categories[0].id, 1);
  EXPECT_EQ(d.coco.categories[0].name, "person");
  EXPECT_EQ(d.coco.categories[1].name, "traffic light");
  EXPECT_EQ(d.coco.categories[2].name, "bottle # not a comment");
  ASSERT_EQ(d.coco.images.size(), 4u);
  EXPECT_EQ(d.images_dir, root);

  const segtune::CocoImage& street = ImageNamed(d, "images/train/street.jpg");
  EXPECT_EQ(street.width, 64);
  EXPECT_EQ(street.height, 48);
  EXPECT_EQ(d.subset_of_image.at(street.id.text), "train");
  const auto objects = AnnotationsOf(d, street);
  ASSERT_EQ(objects.size(), 3u) << "the blank line is no object";
  // Box 0.5 0.4 0.25 0.3 on 64x48: x = (0.5 - 0.125) * 64 = 24, y = (0.4 - 0.15) * 48 = 12, 16 x 14.4.
  EXPECT_EQ(objects[0]->category_id, 1);
  EXPECT_TRUE(objects[0]->segmentation.empty());
  EXPECT_NEAR(objects[0]->bbox[0], 24, 1e-9);
  EXPECT_NEAR(objects[0]->bbox[1], 12, 1e-9);
  EXPECT_NEAR(objects[0]->bbox[2], 16, 1e-9);
  EXPECT_NEAR(objects[0]->bbox[3], 14.4, 1e-9);
  // Segment: a rectangle 0.1..0.4 x 0.1..0.5 -> pixels 6.4..25.6 x 4.8..24; bbox from the polygon.
  EXPECT_EQ(objects[1]->category_id, 3);
  ASSERT_EQ(objects[1]->segmentation.polygons.size(), 1u);
  EXPECT_NEAR(objects[1]->segmentation.polygons[0][0], 6.4, 1e-9);
  EXPECT_NEAR(objects[1]->segmentation.polygons[0][1], 4.8, 1e-9);
  EXPECT_NEAR(objects[1]->bbox[0], 6.4, 1e-9);
  EXPECT_NEAR(objects[1]->bbox[2], 19.2, 1e-9);
  EXPECT_NEAR(objects[1]->bbox[3], 19.2, 1e-9);
  EXPECT_NEAR(objects[1]->area, 19.2 * 19.2, 1e-6);
  EXPECT_EQ(objects[2]->segmentation.polygons[0].size(), 6u) << "a triangle";

  EXPECT_TRUE(AnnotationsOf(d, ImageNamed(d, "images/train/empty.png")).empty()) << "no label file, no objects";
  EXPECT_EQ(AnnotationsOf(d, ImageNamed(d, "images/train/sub/corner.png")).size(), 1u) << "labels/ mirrors images/ below it";
  const segtune::CocoImage& park = ImageNamed(d, "images/val/park.jpg");
  EXPECT_EQ(d.subset_of_image.at(park.id.text), "val");

  bool download_ignored = false, roboflow_ignored = false;
  for (const auto& w : report.warnings) {
    download_ignored |= w.message.find("'download' ignored") != std::string::npos && w.element == "line 13";
    roboflow_ignored |= w.message.find("'roboflow' ignored") != std::string::npos;
  }
  EXPECT_TRUE(download_ignored && roboflow_ignored) << "keys it does not use are reported, with their line";
}

// A folder split's images are numbered in fs::path order (component by component): "a/z.jpg" before
// "a-b/c.jpg" and "a.jpg", although '/' sorts after '-' and '.' as a character.
TEST(ConvertYolo, FolderImagesAreNumberedInPathOrder) {
  TempDir dir;
  const fs::path root = dir / "set";
  segtune::WriteFileAtomic(root / "data.yaml", "path: .\ntrain: images\nnames: [x]\n");
  const std::vector<std::string> names = {"a-b/c.jpg", "a/z.jpg", "a.jpg", "a/b/y.jpg", "A.jpg", "a b.jpg", "ab/x.jpg"};
  for (const auto& name : names) WriteSolidImage(root / "images" / name, 8, 8);
  std::vector<fs::path> expected;
  for (const auto& name : names) expected.push_back(fs::path("images") / name);
  std::sort(expected.begin(), expected.end());
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.images.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(d.coco.images[i].file_name, expected[i].generic_string()) << i;
    EXPECT_EQ(d.coco.images[i].id.text, std::to_string(i + 1));
  }
}

// 0.787288 * 96 is 75.579648; the double product is 75.57964799999999. The reader computes the exact
// decimal product for coordinates of up to 6 decimals, and keeps the double product for longer ones.
TEST(ConvertYolo, PixelCoordinatesAreTheExactProductsOfSixDecimalFractions) {
  ASSERT_NE(0.787288 * 96, 75.579648);  // The case this test is about.
  TempDir dir;
  const fs::path root = dir / "set";
  segtune::WriteFileAtomic(root / "data.yaml", "path: .\ntrain: images\nnames: [x]\n");
  WriteSolidImage(root / "images" / "a.png", 96, 64);
  segtune::WriteFileAtomic(root / "labels" / "a.txt", "0 0.787288 0.5 0.1 0.25 0.3333333333333 0.75\n");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  const std::vector<double>& xy = d.coco.annotations[0].segmentation.polygons.at(0);
  ASSERT_EQ(xy.size(), 6u);
  EXPECT_EQ(xy[0], 75.579648);
  EXPECT_EQ(xy[1], 32.0);
  EXPECT_EQ(xy[2], 9.6);
  EXPECT_EQ(xy[3], 16.0);
  EXPECT_EQ(xy[4], 0.3333333333333 * 96);  // More than 6 decimals: the double product.
  EXPECT_EQ(xy[5], 48.0);
}

// A JPEG of stored size 40x20 whose EXIF orientation 6 shows it turned a quarter clockwise (20x40),
// with a red 4x4 square at stored pixels x 2..6, y 13..17.
std::string TurnedJpegWithRedSquare() {
  cv::Mat stored(20, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(stored, cv::Rect(2, 13, 4, 4), cv::Scalar(0, 0, 255), cv::FILLED);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", stored, jpeg, {cv::IMWRITE_JPEG_QUALITY, 100});
  // APP1: "Exif\0\0", then a big-endian TIFF header and IFD0 with the one entry 0x0112 = 6.
  const std::string tiff("MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0", 26);
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  std::string app1 = "\xff\xe1";
  app1 += char((payload.size() + 2) >> 8);
  app1 += char((payload.size() + 2) & 0xff);
  app1 += payload;
  return std::string(jpeg.begin(), jpeg.begin() + 2) + app1 + std::string(jpeg.begin() + 2, jpeg.end());
}

// Ultralytics reads labels against the image cv2.imread returns, its EXIF orientation applied. OpenCV
// is the reference here: where the square shows in the image it decodes is what the label says, and
// the reader must put the box back where the square is stored.
TEST(ConvertYolo, LabelsOfAJpegWithAnExifOrientationAreMovedToItsStoredFrameAndBack) {
  TempDir dir;
  const fs::path root = dir / "set";
  const std::string jpeg = TurnedJpegWithRedSquare();
  segtune::WriteFileAtomic(root / "images" / "turned.jpg", jpeg);
  const cv::Mat shown = cv::imdecode(cv::Mat(1, int(jpeg.size()), CV_8UC1, const_cast<char*>(jpeg.data())), cv::IMREAD_COLOR);
  ASSERT_EQ(shown.cols, 20);
  ASSERT_EQ(shown.rows, 40);
  double sum_u = 0, sum_v = 0, red = 0;
  for (int v = 0; v < shown.rows; ++v) {
    for (int u = 0; u < shown.cols; ++u) {
      if (shown.at<cv::Vec3b>(v, u)[2] < 128) continue;
      sum_u += u + 0.5, sum_v += v + 0.5, ++red;
    }
  }
  ASSERT_EQ(red, 16);
  const double u = sum_u / red / shown.cols, v = sum_v / red / shown.rows;  // The square's centre, shown.
  char line[96];
  std::snprintf(line, sizeof(line), "0 %.6f %.6f %.6f %.6f\n", u, v, 4.0 / shown.cols, 4.0 / shown.rows);
  EXPECT_STREQ(line, "0 0.250000 0.100000 0.200000 0.100000\n");
  segtune::WriteFileAtomic(root / "labels" / "turned.txt", line);
  segtune::WriteFileAtomic(root / "data.yaml", "path: .\ntrain: images\nnames: [square]\n");

  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].width, 40) << "COCO keeps the stored size, as TensorFlow decodes it";
  EXPECT_EQ(d.coco.images[0].height, 20);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  const auto& box = d.coco.annotations[0].bbox;
  EXPECT_NEAR(box[0], 2, 1e-9);
  EXPECT_NEAR(box[1], 13, 1e-9);
  EXPECT_NEAR(box[2], 4, 1e-9);
  EXPECT_NEAR(box[3], 4, 1e-9);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].message.find("1 image(s) have an EXIF orientation"), std::string::npos)
      << report.warnings[0].message;

  // Written back as YOLO: the label is in the shown frame again.
  segtune::ConvertOptions back;
  back.output = dir / "out";
  back.to = "yolo";
  segtune::WriteAnnotations(d, back, &report);
  EXPECT_EQ(segtune::ReadFile(dir / "out/labels/train/turned.txt"), line);
}

TEST(ConvertYolo, ReadsRoboflowRelativeSplitsAndDotSlashListLines) {
  TempDir dir;
  const fs::path root = dir / "rf";
  // Roboflow's export: data.yaml beside train/ and valid/, naming them "../train/images".
  segtune::WriteFileAtomic(root / "data.yaml", "train: ../train/images\nval: ../valid/images\ntest: lists/test.txt\n"
                                               "nc: 2\nnames: ['a', 'b']\n");
  WriteSolidImage(root / "train/images/t.jpg", 10, 10);
  segtune::WriteFileAtomic(root / "train/labels/t.txt", "1 0.5 0.5 0.2 0.2\n");
  WriteSolidImage(root / "valid/images/v.jpg", 10, 10);
  WriteSolidImage(root / "extra/images/x.jpg", 10, 10);
  segtune::WriteFileAtomic(root / "extra/labels/x.txt", "0 0.5 0.5 0.2 0.2\n");
  // A list line starting with "./" is relative to the list's folder (Ultralytics).
  segtune::WriteFileAtomic(root / "lists/test.txt", "./../extra/images/x.jpg\n\n");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[0].file_name, "train/images/t.jpg");
  EXPECT_EQ(d.subset_of_image.at("2"), "val");
  EXPECT_EQ(d.coco.images[2].file_name, "extra/images/x.jpg");
  EXPECT_EQ(d.subset_of_image.at("3"), "test");
  ASSERT_EQ(d.coco.annotations.size(), 2u);
  EXPECT_EQ(d.coco.annotations[0].category_id, 2);
  EXPECT_EQ(d.coco.annotations[1].image_id.text, "3");
}

TEST(ConvertYolo, ReadsDarknetObjDataListsAndNames) {
  TempDir dir;
  const fs::path root = DarknetFixture(dir);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root / "data/obj.data", &report);
  ASSERT_EQ(d.coco.categories.size(), 2u) << "the trailing blank line of obj.names is no class";
  EXPECT_EQ(d.coco.categories[1].name, "head");
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.images_dir, root) << "darknet paths are relative to the folder above data/";
  const segtune::CocoImage& site1 = ImageNamed(d, "data/obj/site1.jpg");
  EXPECT_EQ(d.subset_of_image.at(site1.id.text), "train");
  EXPECT_EQ(d.subset_of_image.at(ImageNamed(d, "data/obj/site3.jpg").id.text), "val");
  const auto objects = AnnotationsOf(d, site1);
  ASSERT_EQ(objects.size(), 2u) << "labels beside the images when the path has no images/ folder";
  EXPECT_EQ(objects[1]->category_id, 2);
  EXPECT_NEAR(objects[0]->bbox[0], 30, 1e-9);  // (0.5 - 0.125) * 80
  EXPECT_NEAR(objects[0]->bbox[3], 10, 1e-9);  // 0.25 * 40
  // The folder works too (it holds obj.data one level down: name the file), and obj.names alone.
  EXPECT_EQ(Read(root / "data/obj.names", &report).coco.images.size(), 3u) << "train.txt/valid.txt beside obj.names";
}

// The reader looked for every listed image: coco2tfrecord takes its answer (no second look) and still
// lists the missing ones before writing anything; the present ones become records.
TEST(ConvertYolo, RecordsListTheImagesTheReaderDidNotFind) {
  TempDir dir;
  const fs::path root = DarknetFixture(dir);
  fs::remove(root / "data/obj/site2.jpg");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root / "data/obj.data", &report);
  ASSERT_TRUE(d.missing_image_files.has_value());
  EXPECT_EQ(*d.missing_image_files, std::set<std::string>{"data/obj/site2.jpg"});
  segtune::CocoToTfRecordOptions options;
  options.output = (dir / "out.record").string();
  const std::string error = ErrorOf([&] { segtune::ConvertLabeledDatasetToTfRecord(d, options); });
  EXPECT_NE(error.find("1 image file(s) missing"), std::string::npos) << error;
  EXPECT_NE(error.find("site2.jpg"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(dir / "out.record"));
  WriteSolidImage(root / "data/obj/site2.jpg", 80, 40);
  const segtune::LabeledDataset again = Read(root / "data/obj.data", &report);
  EXPECT_EQ(segtune::ConvertLabeledDatasetToTfRecord(again, options).images, 3);
  EXPECT_EQ(segtune::ReadAllRecords(dir / "out.record").size(), 3u);
}

TEST(ConvertYolo, ImagesInTwoSplitsAreReadOnceWithOneWarning) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  segtune::WriteFileAtomic(root / "data.yaml", "train: images/train\nval: [images/val, images/train]\nnames: {'0': a, 1: b, 2: c}\n");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  EXPECT_EQ(d.coco.images.size(), 4u);
  EXPECT_EQ(d.coco.categories[0].name, "a") << "a quoted id counts, as Ultralytics' int(key)";
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_EQ(report.warnings[0].element, "line 2");
  EXPECT_NE(report.warnings[0].message.find("3 image(s) of split 'val' were already read"), std::string::npos)
      << report.warnings[0].message;
}

TEST(ConvertYolo, RoundTripThroughCocoKeepsEveryLineToSixDecimals) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  segtune::ConvertOptions to_coco;
  to_coco.input = root;
  to_coco.output = dir / "coco.json";
  to_coco.to = "coco";
  const segtune::ConversionReport r1 = segtune::ConvertAnnotations(to_coco);
  EXPECT_EQ(r1.from, "yolo") << "auto-detected";
  EXPECT_EQ(r1.annotations, 6);

  segtune::ConvertOptions back;
  back.input = dir / "coco.json";
  back.output = dir / "out";
  back.to = "yolo";
  back.images_dir = root;
  // COCO has no splits: the subset travels only in memory, so convert the dataset directly too.
  segtune::ConversionReport report;
  segtune::LabeledDataset d = Read(root, &report);
  d.coco = segtune::LoadCoco(dir / "coco.json");
  segtune::WriteAnnotations(d, back, &report);

  for (const auto& [in, out] : std::vector<std::pair<std::string, std::string>>{
           {"labels/train/street.txt", "labels/train/street.txt"},
           {"labels/train/sub/corner.txt", "labels/train/corner.txt"},
           {"labels/val/park.txt", "labels/val/park.txt"}}) {
    EXPECT_EQ(NormalizedLines(segtune::ReadFile(dir / "out" / out)), NormalizedLines(segtune::ReadFile(root / in))) << in;
  }
  EXPECT_EQ(segtune::ReadFile(dir / "out/labels/train/empty.txt"), "");
  EXPECT_TRUE(fs::is_regular_file(dir / "out/images/train/street.jpg"));
  EXPECT_EQ(fs::file_size(dir / "out/images/val/park.jpg"), fs::file_size(root / "images/val/park.jpg"));
  const std::string yaml = segtune::ReadFile(dir / "out/data.yaml");
  EXPECT_NE(yaml.find("train: images/train\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  1: 'traffic light'\n"), std::string::npos) << yaml;

  // And the written dataset reads back as the same dataset.
  segtune::ConversionReport again;
  const segtune::LabeledDataset d2 = Read(dir / "out", &again);
  EXPECT_EQ(d2.coco.categories.size(), 3u);
  EXPECT_EQ(d2.coco.categories[2].name, "bottle # not a comment");
  EXPECT_EQ(d2.coco.annotations.size(), 6u);
}

TEST(ConvertYolo, WriterTracesMasksDropsHolesAndSkipsCrowdsWithWarnings) {
  TempDir dir;
  WriteSolidImage(dir / "in/a.png", 40, 30);
  segtune::LabeledDataset d;
  d.images_dir = dir / "in";
  d.coco.categories = {{7, "ring", "", {}}, {9, "box", "", {}}};
  segtune::CocoImage image;
  image.id = {"1", true};
  image.file_name = "a.png";
  image.width = 40, image.height = 30;
  d.coco.images.push_back(image);
  std::vector<uint8_t> ring(40 * 30, 0);
  for (int y = 5; y < 25; ++y) {
    for (int x = 5; x < 35; ++x) ring[y * 40 + x] = !(y >= 10 && y < 20 && x >= 12 && x < 28);
  }
  segtune::CocoAnnotation mask;
  mask.id = 1, mask.image_id = image.id, mask.category_id = 7;
  mask.segmentation.rle = segtune::RleEncode(ring.data(), 30, 40);
  segtune::CocoAnnotation crowd = mask;
  crowd.id = 2, crowd.iscrowd = true;
  segtune::CocoAnnotation box;
  box.id = 3, box.image_id = image.id, box.category_id = 9, box.bbox = {10, 6, 20, 12};
  d.coco.annotations = {mask, crowd, box};
  segtune::ConversionReport report;
  segtune::ConvertOptions options;
  options.output = dir / "out";
  options.to = "yolo";
  segtune::WriteAnnotations(d, options, &report);
  const std::string labels = segtune::ReadFile(dir / "out/labels/train/a.txt");
  const std::vector<std::string> lines = NormalizedLines(labels);
  ASSERT_EQ(lines.size(), 2u) << labels;
  EXPECT_EQ(lines[0].rfind("0 ", 0), 0u) << "category 7 is the first category: class 0";
  EXPECT_EQ(lines[1], "1 0.500000 0.400000 0.500000 0.400000");
  EXPECT_NE(labels.find("0.125000 0.166667"), std::string::npos) << "traced corner (5, 5) normalized: " << labels;
  std::string warnings;
  for (const auto& w : report.warnings) warnings += w.ToString() + "\n";
  EXPECT_NE(warnings.find("annotation 1: 1 hole(s) of the mask dropped"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("annotation 2: crowd region skipped"), std::string::npos) << warnings;
}

TEST(ConvertYolo, MalformedLabelLinesNameTheFileAndLine) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  const fs::path label = root / "labels/val/park.txt";
  segtune::ConversionReport report;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1 0.5 0.5 0.5 0.5\n0 0.1 0.2 0.3 0.4 0.5\n", "line 2: expected 'class cx cy w h'"},
      {"\n3 0.5 0.5 0.5 0.5\n", "line 2: class 3 is outside the dataset's 3 classes"},
      {"1 0.5 0.5 1.5 0.5\n", "line 1: field 4 = 1.5: outside [0, 1]"},
      {"1 0.5 0.5 abc 0.5\n", "line 1: field 4 'abc': expected a number"},
      {"1.5 0.5 0.5 0.5 0.5\n", "line 1: class '1.5': expected an integer class id"},
  };
  for (const auto& [text, expected] : cases) {
    segtune::WriteFileAtomic(label, text);
    const std::string e = ErrorOf([&] { Read(root, &report); });
    EXPECT_NE(e.find(label.string() + ": " + expected), std::string::npos) << e;
  }
}

TEST(ConvertYolo, DataYamlBeyondTheSubsetIsAnErrorNamingTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train: a\nnames: [a, 'b\n", "line 2: unterminated single-quoted string"},
      {"train: a\nnames:\n  0:\n    deep: x\n", "line 3: names: uses a map entry that is not a single scalar"},
      {"train: a\nnames: |\n  a\n", "line 2: names: uses a block scalar (|)"},
      {"train: a\nnames: [a,\n  b\n", "line 2: names: uses a flow collection not closed on its line"},
      {"train: a\nnames: {0: a, 2: b}\n", "line 2: names: key '2': expected each class id 0..1 once"},
      {"train: a\nnames: [a, b]\nnc: 3\n", "line 3: the class count 3 differs from the 2 names"},
      {"train: a\ntrain: b\n", "line 2: key 'train' appears twice"},
      {"names: [a]\ntrain: a\n  b\n", "line 3: train: uses a value continued on the next lines"},
      {"train: a\nnames: *anchor\n", "line 2: names: uses an anchor, alias or tag (*)"},
      {"train: a\n\tnames: [a]\n", "line 2: tab in indentation"},
      {"train: a: b\n", "line 1: 'a: b': a mapping inside a value"},
  };
  for (const auto& [text, expected] : cases) {
    TempDir dir;
    fs::create_directories(dir / "a");
    segtune::WriteFileAtomic(dir / "data.yaml", text);
    segtune::ConversionReport report;
    const std::string e = ErrorOf([&] { Read(dir / "data.yaml", &report); });
    EXPECT_NE(e.find((dir / "data.yaml").string() + ": " + expected), std::string::npos) << text << "\n-> " << e;
  }
}

TEST(ConvertYolo, DataYamlParsesListsMapsQuotesAndComments) {
  const segtune::YamlDocument doc = segtune::ParseDataYaml(
      "---\n# c\nnames:\n- 'it''s'\n- \"tab\\there\" # c\n- plain text\nval: [a, 'b, c', \"d\"]\nm: {0: x, 1: 'y z'}\nt: ~\n",
      "d.yaml");
  const segtune::YamlValue* names = doc.Find("names");
  ASSERT_NE(names, nullptr);
  ASSERT_EQ(names->kind, segtune::YamlValue::kList);
  ASSERT_EQ(names->items.size(), 3u);
  EXPECT_EQ(names->items[0].text, "it's");
  EXPECT_EQ(names->items[1].text, "tab\there");
  EXPECT_EQ(names->items[2].text, "plain text");
  ASSERT_EQ(doc.Find("val")->items.size(), 3u);
  EXPECT_EQ(doc.Find("val")->items[1].text, "b, c");
  ASSERT_EQ(doc.Find("m")->entries.size(), 2u);
  EXPECT_EQ(doc.Find("m")->entries[1].second.text, "y z");
  EXPECT_TRUE(doc.Find("t")->scalar.IsNull());
}

// What Ultralytics' own dataset files hold: a `download: |` Python script (VOC.yaml: quotes and '#'
// that are not YAML), YOLOv5's names list wrapped over lines (coco128.yaml), and a test split that
// is not shipped (coco.yaml's test-dev2017.txt).
TEST(ConvertYolo, UltralyticsDatasetFilesWithScriptsWrappedNamesAndNoTestSplit) {
  TempDir dir;
  fs::create_directories(dir / "images/train");
  fs::create_directories(dir / "images/val");
  const std::string yaml =
      "path: " + dir.path().string() + "\ntrain: images/train\nval: images/val\ntest: test-dev2017.txt  # not shipped\n"
      "names: ['person', 'bicycle', \"car\",\n        'traffic light',\n        'fire hydrant']\n"
      "download: |\n  from pathlib import Path\n  def convert(f):\n      out.write(\" \".join(x) + '\\n')  # \"quoted\n\n"
      "  print('done # not a comment')\nnc: 5\n";
  segtune::WriteFileAtomic(dir / "data.yaml", yaml);
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(dir / "data.yaml", &report);
  ASSERT_EQ(d.coco.categories.size(), 5u);
  EXPECT_EQ(d.coco.categories[3].name, "traffic light");
  EXPECT_EQ(d.coco.categories[4].name, "fire hydrant");
  EXPECT_TRUE(segtune::testing::Warned(report, "test-dev2017.txt does not exist; split skipped"));
  // The script is an unsupported value of a key segtune does not read: a warning, not an error.
  const segtune::YamlDocument doc = segtune::ParseDataYaml(yaml, "d.yaml");
  ASSERT_NE(doc.Find("download"), nullptr);
  EXPECT_EQ(doc.Find("download")->kind, segtune::YamlValue::kUnsupported);
  ASSERT_NE(doc.Find("nc"), nullptr);
  EXPECT_EQ(doc.Find("nc")->scalar.text, "5");
}

// A flow list wrapped over lines whose quoted entries hold what would otherwise end it or split it: a
// ']' and a comma inside quotes, an escaped '' quote, an escaped \" (formats/data_yaml.cpp QuoteEnd).
TEST(ConvertYolo, WrappedFlowListsKeepBracketsCommasAndEscapesInsideQuotes) {
  const segtune::YamlDocument doc = segtune::ParseDataYaml(
      "names: ['a]b', 'it''s, ok',\n  \"say \\\"hi\\\"\", c]  # done\nnc: 4\n", "d.yaml");
  const segtune::YamlValue* names = doc.Find("names");
  ASSERT_NE(names, nullptr);
  ASSERT_EQ(names->kind, segtune::YamlValue::kList);
  ASSERT_EQ(names->items.size(), 4u);
  EXPECT_EQ(names->items[0].text, "a]b");
  EXPECT_EQ(names->items[1].text, "it's, ok");
  EXPECT_EQ(names->items[2].text, "say \"hi\"");
  EXPECT_EQ(names->items[3].text, "c");
  ASSERT_NE(doc.Find("nc"), nullptr);
  EXPECT_EQ(doc.Find("nc")->scalar.text, "4");
}

// Ultralytics accepts coordinates up to 1% outside [0, 1]; they are clamped. Beyond is an error.
TEST(ConvertYolo, CoordinatesWithinOnePercentOutsideAreClamped) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  const fs::path label = root / "labels/val/park.txt";
  segtune::WriteFileAtomic(label, "1 0.5 0.5 1.005 0.5\n0 -0.004 0.1 1.009 0.1 0.5 0.5\n");
  segtune::ConversionReport report;
  const std::vector<segtune::YoloObject> objects = segtune::ParseYoloLabels(segtune::ReadFile(label), label, 3);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].values[2], 1.0);
  EXPECT_EQ(objects[1].values[0], 0.0);
  EXPECT_EQ(objects[1].values[2], 1.0);
  EXPECT_NO_THROW(Read(root, &report));
  // A repeated line is dropped with a warning, as Ultralytics does.
  segtune::WriteFileAtomic(label, "1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.3\n");
  segtune::ConversionReport repeated;
  const segtune::LabeledDataset d = Read(root, &repeated);
  const auto park = AnnotationsOf(d, ImageNamed(d, "images/val/park.jpg"));
  EXPECT_EQ(park.size(), 2u);
  EXPECT_TRUE(segtune::testing::Warned(repeated, "1 repeated label line(s) dropped"));
  segtune::WriteFileAtomic(label, "1 0.5 0.5 1.02 0.5\n");
  EXPECT_NE(ErrorOf([&] { Read(root, &report); }).find("field 4 = 1.02: outside [0, 1] by more than 0.01"), std::string::npos);
}

// CVAT's "YOLO 1.1" export is darknet's layout with every path under "data/", unpacked into a folder
// of any name: the folder holding obj.data stands for "data/".
TEST(ConvertYolo, CvatYoloExportUnpackedAnywhereIsRead) {
  TempDir dir;
  const fs::path root = dir / "task_7-yolo";
  segtune::testing::WriteSolidImage(root / "obj_train_data/frame_000000.jpg", 40, 20);
  segtune::WriteFileAtomic(root / "obj_train_data/frame_000000.txt", "1 0.5 0.5 0.5 0.5\n");
  segtune::WriteFileAtomic(root / "obj.data", "classes = 2\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n");
  segtune::WriteFileAtomic(root / "obj.names", "car\nbike\n");
  segtune::WriteFileAtomic(root / "train.txt", "data/obj_train_data/frame_000000.jpg\n");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root / "obj.data", &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  EXPECT_EQ(d.coco.annotations[0].category_id, 2);
  EXPECT_DOUBLE_EQ(d.coco.annotations[0].bbox[0], 10.0);
  EXPECT_TRUE(d.coco.images[0].width == 40 && d.coco.images[0].height == 20);
}

// Darknet's VOC layout pairs JPEGImages/ with labels/; a dataset where no image has a label file is
// warned about, not passed off as unlabeled.
TEST(ConvertYolo, JpegImagesPairWithLabelsAndNoLabelsAtAllIsWarned) {
  TempDir dir;
  const fs::path root = dir / "voc";
  segtune::testing::WriteSolidImage(root / "JPEGImages/a.jpg", 40, 20);
  segtune::WriteFileAtomic(root / "labels/a.txt", "0 0.5 0.5 0.5 0.5\n");
  segtune::WriteFileAtomic(root / "obj.names", "car\n");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root / "obj.names", &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.annotations.size(), 1u);
  EXPECT_FALSE(segtune::testing::Warned(report, "no label file"));
  fs::remove(root / "labels/a.txt");
  segtune::ConversionReport none;
  EXPECT_TRUE(Read(root / "obj.names", &none).coco.annotations.empty());
  EXPECT_TRUE(segtune::testing::Warned(none, "no label file found for any of the 1 images")) << none.warnings.size();
}

TEST(ConvertYolo, DarknetClassCountMismatchNamesTheLine) {
  TempDir dir;
  const fs::path root = DarknetFixture(dir);
  std::string data = segtune::ReadFile(root / "data/obj.data");
  data.replace(data.find("classes = 2"), 11, "classes = 5");
  segtune::WriteFileAtomic(root / "data/obj.data", data);
  segtune::ConversionReport report;
  const std::string e = ErrorOf([&] { Read(root / "data/obj.data", &report); });
  EXPECT_NE(e.find("obj.data: line 2: the class count 5 differs from the 2 names"), std::string::npos) << e;
}

TEST(ConvertYolo, HostileNamesStayInsideTheOutputAndAreReported) {
  TempDir dir;
  WriteSolidImage(dir / "in/a.png", 20, 10);
  segtune::LabeledDataset d;
  d.images_dir = dir / "in";
  d.coco.categories = {{1, "it's\nbad", "", {}}};
  for (const std::string& name : std::vector<std::string>{"../../a.png", (dir / "in/a.png").string(), "sub/-rf.png", "..\\..\\a.png"}) {
    segtune::CocoImage image;
    image.id = {std::to_string(d.coco.images.size() + 1), true};
    image.file_name = name;
    image.width = 20, image.height = 10;
    d.coco.images.push_back(image);
    d.subset_of_image[image.id.text] = "../../evil";
  }
  segtune::WriteFileAtomic(dir / "in/sub/-rf.png", segtune::ReadFile(dir / "in/a.png"));
  segtune::ConversionReport report;
  segtune::ConvertOptions options;
  options.output = dir / "out/ds";
  options.to = "yolo";
  options.check_images = false;
  segtune::WriteAnnotations(d, options, &report);
  std::set<std::string> outside;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    const std::string p = entry.path().string();
    if (p.rfind((dir / "out/ds").string(), 0) != 0 && p.rfind((dir / "in").string(), 0) != 0 && p != (dir / "out").string()) {
      outside.insert(p);
    }
  }
  EXPECT_TRUE(outside.empty()) << *outside.begin();
  // Four images, four distinct label files, all in one sanitized split folder.
  const std::string split = segtune::SanitizeFileName("../../evil");
  ASSERT_TRUE(fs::is_directory(dir / "out/ds/labels" / split)) << split;
  int labels = 0;
  for (const auto& entry : fs::directory_iterator(dir / "out/ds/labels" / split)) labels += entry.path().extension() == ".txt";
  EXPECT_EQ(labels, 4);
  EXPECT_TRUE(fs::is_regular_file(dir / "out/ds/images" / split / "_rf.png")) << "a leading '-' is no option";
  int renamed = 0;
  for (const auto& w : report.warnings) renamed += w.message.find("written as") != std::string::npos;
  EXPECT_GE(renamed, 3);
  const std::string yaml = segtune::ReadFile(dir / "out/ds/data.yaml");
  EXPECT_NE(yaml.find("0: 'it''s bad'"), std::string::npos) << yaml;
  segtune::ConversionReport again;
  EXPECT_EQ(Read(dir / "out/ds", &again).coco.categories[0].name, "it's bad");
}

TEST(ConvertYolo, ExistingOutputIsReplacedOnlyWhenSegtuneWroteIt) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  segtune::ConvertOptions options;
  options.input = root;
  options.from = "yolo";
  options.to = "yolo";
  options.output = dir / "other";
  fs::create_directories(dir / "other");
  segtune::WriteFileAtomic(dir / "other/keep.txt", "mine");
  EXPECT_THROW(segtune::ConvertAnnotations(options), segtune::UsageError);
  options.write.overwrite = true;
  EXPECT_THROW(segtune::ConvertAnnotations(options), segtune::UsageError) << "not ours, even with --overwrite";
  EXPECT_EQ(segtune::ReadFile(dir / "other/keep.txt"), "mine");
  // A YOLO dataset the user made (it has a data.yaml) is not ours either.
  options.input = DarknetFixture(dir) / "data/obj.data";
  options.output = root;
  EXPECT_THROW(segtune::ConvertAnnotations(options), segtune::UsageError);
  EXPECT_TRUE(fs::is_regular_file(root / "labels/val/park.txt"));
  options.input = root;
  options.output = dir / "out";
  segtune::ConvertAnnotations(options);
  segtune::ConvertAnnotations(options);  // Ours: replaced with --overwrite.
  EXPECT_TRUE(fs::is_regular_file(dir / "out/data.yaml"));
  EXPECT_TRUE(fs::is_regular_file(dir / "out/.segtune-convert"));
}

TEST(ConvertYolo, AutoDetectsYoloLayoutsAndNotCoco) {
  TempDir dir;
  const fs::path ultra = UltralyticsFixture(dir);
  const fs::path darknet = DarknetFixture(dir);
  EXPECT_EQ(segtune::DetectAnnotationFormat(ultra).name, "yolo");
  EXPECT_EQ(segtune::DetectAnnotationFormat(ultra / "data.yaml").name, "yolo");
  EXPECT_EQ(segtune::DetectAnnotationFormat(darknet / "data/obj.data").name, "yolo");
  EXPECT_EQ(segtune::DetectAnnotationFormat(darknet / "data").name, "yolo");
  EXPECT_EQ(segtune::DetectAnnotationFormat(darknet).name, "yolo") << "darknet's data/obj.data";
  segtune::SaveCoco(segtune::CocoDataset{}, dir / "c.json");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "c.json").name, "coco");
  EXPECT_EQ(segtune::FindAnnotationFormat("yolo").detect(dir / "c.json"), 0);
  segtune::WriteFileAtomic(dir / "cfg/pipeline.yaml", "model: x\n");
  EXPECT_EQ(segtune::FindAnnotationFormat("yolo").detect(dir / "cfg"), 0) << "a YAML without names/train is not YOLO";
}

TEST(ConvertYolo, CliConvertsAnAutoDetectedFolderAndPrintsWarnings) {
  TempDir dir;
  const fs::path root = UltralyticsFixture(dir);
  const auto r = segtune::testing::RunSegtune("convert --to masks '" + root.string() + "' -o '" + (dir / "m").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 images, 6 annotations, 3 categories from yolo"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("data.yaml: line 13: key 'download' ignored"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("box without a mask painted as a filled rectangle"), std::string::npos) << r.output;
  EXPECT_EQ(segtune::ReadFile(dir / "m/classes.txt"), "background\nperson\ntraffic light\nbottle # not a comment\n");
  EXPECT_TRUE(fs::is_regular_file(dir / "m/masks/val/park.png"));
}

TEST(ConvertYolo, LabelPathFollowsTheUltralyticsRule) {
  EXPECT_EQ(segtune::YoloLabelPath("/d/images/train/images/x.v2.jpg"), fs::path("/d/images/train/labels/x.v2.txt"));
  EXPECT_EQ(segtune::YoloLabelPath("/d/obj/x.jpg"), fs::path("/d/obj/x.txt"));
  EXPECT_EQ(segtune::YoloLabelPath("/d/myimages/x.png"), fs::path("/d/myimages/x.txt")) << "a whole folder name only";
}

}  // namespace
