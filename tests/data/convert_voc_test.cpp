// Pascal VOC folders (data/convert/voc_format.cpp, voc_writer.cpp, voc_palette.h) and the palette PNG
// encoder (formats/image_codec.h). The fixture's XML files and split lists are checked in
// (tests/data/fixtures/convert/voc/VOC2012, VOC's layout); its palette PNGs, with VOC's 255 borders
// around objects, are drawn here with EncodePalettePng.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/safe_name.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/convert/voc_palette.h"
#include "segtune/formats/image_codec.h"
#include "convert_test_util.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

constexpr int kW = 12, kH = 10;

// A filled rectangle of `value` with a one-pixel 255 ring around it, as VOC draws object borders.
void Draw(std::vector<uint8_t>* pixels, int x0, int y0, int x1, int y1, uint8_t value) {
  for (int y = y0 - 1; y <= y1 + 1; ++y) {
    for (int x = x0 - 1; x <= x1 + 1; ++x) {
      const bool inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
      (*pixels)[size_t(y) * kW + x] = inside ? value : 255;
    }
  }
}

void WritePng(const fs::path& file, const std::vector<uint8_t>& pixels) {
  segtune::WriteFileAtomic(file, segtune::EncodePalettePng(pixels.data(), kH, kW, segtune::VocColormap()));
}

// The checked-in fixture plus its masks and (stand-in) image files, in a temporary copy.
fs::path MakeVoc(const TempDir& dir) {
  const fs::path root = dir / "VOC2012";
  fs::copy(segtune::testing::SourcePath("tests/data/fixtures/convert/voc/VOC2012"), root, fs::copy_options::recursive);
  fs::create_directories(root / "SegmentationObject");
  fs::create_directories(root / "SegmentationClass");
  fs::create_directories(root / "JPEGImages");
  std::vector<uint8_t> objects(kW * kH, 0), classes(kW * kH, 0);
  Draw(&objects, 2, 2, 3, 5, 1), Draw(&classes, 2, 2, 3, 5, 15);  // person
  Draw(&objects, 8, 4, 9, 7, 2), Draw(&classes, 8, 4, 9, 7, 5);   // bottle
  WritePng(root / "SegmentationObject" / "2007_000001.png", objects);
  WritePng(root / "SegmentationClass" / "2007_000001.png", classes);
  // 2007_000002 has masks and no XML: its class comes from SegmentationClass (1 = aeroplane).
  std::vector<uint8_t> objects2(kW * kH, 0), classes2(kW * kH, 0);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) objects2[y * kW + x] = 1, classes2[y * kW + x] = 1;
  }
  objects2[5 * kW + 5] = classes2[5 * kW + 5] = 255;
  WritePng(root / "SegmentationObject" / "2007_000002.png", objects2);
  WritePng(root / "SegmentationClass" / "2007_000002.png", classes2);
  for (const char* id : {"2007_000001", "2007_000002", "2007_000003"}) {
    segtune::WriteFileAtomic(root / "JPEGImages" / (std::string(id) + ".jpg"), std::string("jpeg of ") + id);
  }
  return root;
}

segtune::LabeledDataset Read(const fs::path& root, segtune::ConversionReport* report) {
  return segtune::FindAnnotationFormat("voc").read(root, {}, report);
}

std::vector<uint8_t> Pixels(const segtune::Rle& rle) {
  std::vector<uint8_t> out(size_t(rle.h) * rle.w);
  segtune::RleDecode(rle, out.data());
  return out;
}

std::vector<uint8_t> Rect(int x0, int y0, int x1, int y1) {
  std::vector<uint8_t> out(kW * kH, 0);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) out[y * kW + x] = 1;
  }
  return out;
}

const segtune::CocoAnnotation* Find(const segtune::LabeledDataset& d, const std::string& image, const std::string& category) {
  std::string id;
  int64_t category_id = -1;
  for (const auto& i : d.coco.images) if (i.file_name == image) id = i.id.text;
  for (const auto& c : d.coco.categories) if (c.name == category) category_id = c.id;
  for (const auto& a : d.coco.annotations) {
    if (a.image_id.text == id && a.category_id == category_id) return &a;
  }
  return nullptr;
}

std::string ErrorOf(const fs::path& root) {
  segtune::ConversionReport report;
  try {
    Read(root, &report);
  } catch (const segtune::FormatError& e) {
    return e.what();
  }
  return "no error";
}

TEST(VocPalette, ColormapIsVocsBitInterleavedTable) {
  const auto& c = segtune::VocColormap();
  ASSERT_EQ(c.size(), 256u);
  EXPECT_EQ(c[0], (segtune::PaletteColor{0, 0, 0}));
  EXPECT_EQ(c[1], (segtune::PaletteColor{128, 0, 0}));
  EXPECT_EQ(c[2], (segtune::PaletteColor{0, 128, 0}));
  EXPECT_EQ(c[5], (segtune::PaletteColor{128, 0, 128}));
  EXPECT_EQ(c[15], (segtune::PaletteColor{192, 128, 128}));  // person
  EXPECT_EQ(c[255], (segtune::PaletteColor{224, 224, 192}));  // void
  ASSERT_EQ(segtune::VocClassNames().size(), 21u);
  EXPECT_EQ(segtune::VocClassNames()[15], "person");
  EXPECT_EQ(segtune::VocClassNames()[20], "tvmonitor");
}

TEST(VocPalette, PalettePngDecodesWithOpenCvToThePaletteColours) {
  const std::vector<uint8_t> pixels = {0, 1, 2, 15, 255, 5};
  const std::string png = segtune::EncodePalettePng(pixels.data(), 2, 3, segtune::VocColormap());
  EXPECT_EQ(png[25], 3) << "IHDR colour type 3 (indexed)";
  EXPECT_EQ(png.substr(37, 4), "PLTE");
  const cv::Mat bgr = cv::imdecode(cv::Mat(1, int(png.size()), CV_8U, const_cast<char*>(png.data())), cv::IMREAD_COLOR);
  ASSERT_EQ(bgr.rows, 2);
  ASSERT_EQ(bgr.cols, 3);
  for (int i = 0; i < 6; ++i) {
    const cv::Vec3b v = bgr.at<cv::Vec3b>(i / 3, i % 3);
    const auto& want = segtune::VocColormap()[pixels[size_t(i)]];
    EXPECT_EQ(v[2], want.r) << i;
    EXPECT_EQ(v[1], want.g) << i;
    EXPECT_EQ(v[0], want.b) << i;
  }
  EXPECT_THROW(segtune::EncodePalettePng(pixels.data(), 2, 3, {{0, 0, 0}, {1, 1, 1}}), segtune::Error);
}

TEST(VocFormat, ReadsBoxesOneBasedAndMasksWithoutTheVoidBorder) {
  TempDir dir;
  segtune::ConversionReport report;
  const auto d = Read(MakeVoc(dir), &report);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.images_dir, dir / "VOC2012" / "JPEGImages");
  const auto* person = Find(d, "2007_000001.jpg", "person");
  ASSERT_NE(person, nullptr);
  // xmin=2..xmax=5 (1-based, inclusive) covers pixels 1..4: x=1, width=4.
  EXPECT_EQ(person->bbox, (std::array<double, 4>{1, 1, 4, 6}));
  ASSERT_TRUE(person->segmentation.rle);
  EXPECT_EQ(Pixels(*person->segmentation.rle), Rect(2, 2, 3, 5)) << "255 border pixels belong to no instance";
  EXPECT_EQ(person->area, 8);
  EXPECT_EQ(person->extra["difficult"], 1);
  EXPECT_EQ(person->extra["truncated"], 1);
  EXPECT_EQ(person->extra["pose"], "Left");
  EXPECT_TRUE(person->iscrowd) << "difficult objects are crowd, so COCO evaluation ignores them as VOC's does";
  const auto* bottle = Find(d, "2007_000001.jpg", "bottle");
  ASSERT_NE(bottle, nullptr);
  EXPECT_EQ(bottle->bbox, (std::array<double, 4>{7, 2, 4, 7}));
  EXPECT_FALSE(bottle->iscrowd);
  EXPECT_EQ(Pixels(*bottle->segmentation.rle), Rect(8, 4, 9, 7));
  // The void border is kept on the image, for writing VOC again.
  const auto& image = d.coco.images[0];
  ASSERT_TRUE(image.extra.contains("voc_void"));
  const auto v = segtune::RleFromString(image.extra["voc_void"]["counts"].get<std::string>(), kH, kW);
  EXPECT_EQ(segtune::RleArea(v), 16u + 16u) << "the two one-pixel rings";
  EXPECT_TRUE(report.warnings.empty()) << report.warnings[0].ToString();
}

// dir/voc with empty JPEGImages/ and Annotations/ folders.
fs::path EmptyVoc(const TempDir& dir) {
  const fs::path root = dir / "voc";
  fs::create_directories(root / "JPEGImages");
  fs::create_directories(root / "Annotations");
  return root;
}

// labelImg writes <width>0</width> when it could not read the image and can leave the extension off
// <filename>: the size then comes from the image file, found as an id's image is.
TEST(VocFormat, LabelImgZeroSizeAndFilenameWithoutExtension) {
  TempDir dir;
  const fs::path root = EmptyVoc(dir);
  ASSERT_TRUE(cv::imwrite((root / "JPEGImages" / "timg.jpg").string(), cv::Mat(20, 40, CV_8UC3, cv::Scalar(1, 2, 3))));
  segtune::WriteFileAtomic(root / "Annotations" / "timg.xml",
                           "<annotation><folder>x</folder><filename>timg</filename><size><width>0</width><height>0</height>"
                           "<depth>3</depth></size><object><name>dog</name><bndbox><xmin>5</xmin><ymin>3</ymin>"
                           "<xmax>15</xmax><ymax>13</ymax></bndbox></object></annotation>");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].file_name, "timg.jpg");
  EXPECT_EQ(d.coco.images[0].width, 40);
  EXPECT_EQ(d.coco.images[0].height, 20);
  ASSERT_EQ(d.coco.annotations.size(), 1u);
  segtune::WriteFileAtomic(root / "Annotations" / "timg.xml",
                           "<annotation><filename>timg.jpg</filename><size><width>-4</width><height>20</height></size>"
                           "</annotation>");
  EXPECT_NE(ErrorOf(root).find("<width>: expected a positive integer, got '-4'"), std::string::npos) << ErrorOf(root);
}

// CVAT and Datumaro write VOC boxes as continuous 0-based coordinates (xmin = x, xmax = x + w): a
// corner below 1, impossible in VOC's 1-based indexes, marks such a file, whose boxes are then read so.
TEST(VocFormat, AFileWithACornerBelowOneIsReadAsZeroBased) {
  TempDir dir;
  const fs::path root = EmptyVoc(dir);
  segtune::WriteFileAtomic(root / "Annotations" / "a.xml",
                           "<annotation><filename>a.jpg</filename><size><width>40</width><height>30</height></size>"
                           "<object><name>dog</name><bndbox><xmin>0.0</xmin><ymin>0.0</ymin><xmax>12.5</xmax>"
                           "<ymax>20.0</ymax></bndbox></object><object><name>cat</name><bndbox><xmin>5.0</xmin>"
                           "<ymin>6.0</ymin><xmax>9.0</xmax><ymax>10.0</ymax></bndbox></object></annotation>");
  segtune::WriteFileAtomic(root / "Annotations" / "b.xml",
                           "<annotation><filename>b.jpg</filename><size><width>40</width><height>30</height></size>"
                           "<object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>40</xmax>"
                           "<ymax>30</ymax></bndbox></object></annotation>");
  segtune::ConversionReport report;
  const segtune::LabeledDataset d = Read(root, &report);
  ASSERT_EQ(d.coco.annotations.size(), 3u);
  EXPECT_EQ(d.coco.annotations[0].bbox, (std::array<double, 4>{0, 0, 12.5, 20}));
  EXPECT_EQ(d.coco.annotations[1].bbox, (std::array<double, 4>{5, 6, 4, 4})) << "the whole file is 0-based";
  EXPECT_EQ(d.coco.annotations[2].bbox, (std::array<double, 4>{0, 0, 40, 30})) << "b.xml stays 1-based";
  EXPECT_TRUE(segtune::testing::Warned(report, "0-based continuous coordinates"));
}

TEST(VocFormat, MaskOnlyImagesAndClassNamesFromTheTables) {
  TempDir dir;
  segtune::ConversionReport report;
  const auto d = Read(MakeVoc(dir), &report);
  const auto* plane = Find(d, "2007_000002.jpg", "aeroplane");
  ASSERT_NE(plane, nullptr) << "class 1 without any XML is VOC's aeroplane";
  EXPECT_EQ(plane->category_id, 1);
  EXPECT_EQ(plane->bbox, (std::array<double, 4>{0, 0, 3, 2}));
  EXPECT_EQ(d.coco.images[1].width, kW) << "size from the mask";
  const auto* can = Find(d, "2007_000003.jpg", "can");
  ASSERT_NE(can, nullptr);
  EXPECT_EQ(can->category_id, 21) << "a name VOC's table lacks gets the next index";
  EXPECT_EQ(can->bbox, (std::array<double, 4>{0, 0, 30, 20}));
  EXPECT_EQ(can->extra["occluded"], 1);
  EXPECT_TRUE(can->segmentation.empty());
  for (const auto& c : d.coco.categories) {
    if (c.name == "person") EXPECT_EQ(c.id, 15);
    if (c.name == "bottle") EXPECT_EQ(c.id, 5);
  }
  EXPECT_EQ(d.coco.categories.size(), 4u);
}

TEST(VocFormat, SplitsTakeTrainvalAsTheUnionWithoutCountingTwice) {
  TempDir dir;
  segtune::ConversionReport report;
  const auto d = Read(MakeVoc(dir), &report);
  ASSERT_EQ(d.subset_of_image.size(), 3u);
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  EXPECT_EQ(d.subset_of_image.at("2"), "val");
  EXPECT_EQ(d.subset_of_image.at("3"), "val");
  EXPECT_EQ(d.coco.images.size(), 3u) << "bottle_train.txt is a per-class list, not a split";
}

TEST(VocFormat, AnImageInTwoSplitsKeepsTheFirstWithAWarning) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  segtune::WriteFileAtomic(root / "ImageSets" / "Main" / "test.txt", "2007_000001\n");
  segtune::ConversionReport report;
  const auto d = Read(root, &report);
  EXPECT_EQ(d.subset_of_image.at("1"), "train");
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_EQ(report.warnings[0].element, "image '2007_000001'");
  EXPECT_NE(report.warnings[0].message.find("listed in both train and test"), std::string::npos);
}

TEST(VocFormat, GrayClassPngValuesAreTheIndexes) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  fs::remove_all(root / "SegmentationObject");
  std::vector<uint8_t> classes(kW * kH, 0);
  Draw(&classes, 2, 2, 3, 5, 15);
  segtune::WriteFileAtomic(root / "SegmentationClass" / "2007_000002.png", segtune::EncodeGrayPng(classes.data(), kH, kW));
  segtune::ConversionReport report;
  const auto d = Read(root, &report);
  const auto* person = Find(d, "2007_000002.jpg", "person");
  ASSERT_NE(person, nullptr);
  EXPECT_EQ(Pixels(*person->segmentation.rle), Rect(2, 2, 3, 5));
}

// CVAT's and Datumaro's VOC exports colour classes by labelmap.txt, not by VOC's map.
TEST(VocFormat, LabelmapNamesAndColoursTheClasses) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  fs::remove_all(root / "Annotations");
  fs::remove(root / "SegmentationClass" / "2007_000002.png");
  fs::remove(root / "SegmentationObject" / "2007_000002.png");
  segtune::WriteFileAtomic(root / "labelmap.txt", "# label:color_rgb:parts:actions\nbackground:0,0,0::\nbottle:250,50,83::\ncan:51,221,255::\n");
  std::vector<segtune::PaletteColor> palette(256, {0, 0, 0});
  palette[1] = {250, 50, 83}, palette[2] = {51, 221, 255}, palette[255] = {224, 224, 192};
  std::vector<uint8_t> classes(kW * kH, 0);
  Draw(&classes, 2, 2, 3, 5, 2);
  segtune::WriteFileAtomic(root / "SegmentationClass" / "2007_000001.png", segtune::EncodePalettePng(classes.data(), kH, kW, palette));
  segtune::ConversionReport report;
  const auto d = Read(root, &report);
  const auto* can = Find(d, "2007_000001.jpg", "can");
  ASSERT_NE(can, nullptr);
  EXPECT_EQ(can->category_id, 2) << "labelmap.txt line order is the class index";
  EXPECT_EQ(Pixels(*can->segmentation.rle), Rect(2, 2, 3, 5)) << "the object PNG's instance, classed by the labelmap's colour";
  EXPECT_EQ(d.coco.categories.size(), 1u);
}

// Without SegmentationObject each class is one annotation; 255 stays void, also under a labelmap.
TEST(VocFormat, ClassOnlyMasksGiveOneAnnotationPerClass) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  fs::remove_all(root / "SegmentationObject");
  segtune::WriteFileAtomic(root / "labelmap.txt", "background:0,0,0::\nbottle:250,50,83::\ncan:51,221,255::\n");
  std::vector<segtune::PaletteColor> palette(256, {0, 0, 0});
  palette[1] = {250, 50, 83}, palette[2] = {51, 221, 255}, palette[255] = {224, 224, 192};
  std::vector<uint8_t> classes(kW * kH, 0);
  Draw(&classes, 2, 2, 3, 5, 1);
  segtune::WriteFileAtomic(root / "SegmentationClass" / "2007_000002.png", segtune::EncodePalettePng(classes.data(), kH, kW, palette));
  segtune::ConversionReport report;
  const auto d = Read(root, &report);
  const auto* bottle = Find(d, "2007_000002.jpg", "bottle");
  ASSERT_NE(bottle, nullptr);
  EXPECT_EQ(Pixels(*bottle->segmentation.rle), Rect(2, 2, 3, 5));
  const auto& image = d.coco.images[1];
  ASSERT_EQ(image.file_name, "2007_000002.jpg");
  const auto v = segtune::RleFromString(image.extra["voc_void"]["counts"].get<std::string>(), kH, kW);
  EXPECT_EQ(segtune::RleArea(v), 16u) << "the ring is void, not a class";
}

TEST(VocFormat, UnknownColourNamesFileAndPixel) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  std::vector<uint8_t> pixels(kW * kH, 0);
  pixels[3 * kW + 7] = 1;
  const std::vector<segtune::PaletteColor> odd = {{0, 0, 0}, {1, 2, 3}};
  segtune::WriteFileAtomic(root / "SegmentationClass" / "2007_000001.png", segtune::EncodePalettePng(pixels.data(), kH, kW, odd));
  const std::string e = ErrorOf(root);
  EXPECT_NE(e.find("SegmentationClass/2007_000001.png: pixel (7, 3): colour 1,2,3 is not in the VOC palette"), std::string::npos) << e;
}

TEST(VocFormat, MalformedXmlNamesFileAndLine) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  std::string xml = segtune::ReadFile(root / "Annotations" / "2007_000003.xml");
  xml.replace(xml.find("<xmin>6</xmin>"), 14, "<xmin>six</xmin>");
  segtune::WriteFileAtomic(root / "Annotations" / "2007_000003.xml", xml);
  const int line = segtune::testing::LineOf(xml, "<xmin>six");
  std::string e = ErrorOf(root);
  EXPECT_NE(e.find("2007_000003.xml: line " + std::to_string(line - 1) + ": <bndbox>: <xmin>: expected a number, got 'six'"),
            std::string::npos) << e;
  xml.replace(xml.find("<bndbox>"), 8, "<box>");
  xml.replace(xml.find("</bndbox>"), 9, "</box>");
  segtune::WriteFileAtomic(root / "Annotations" / "2007_000003.xml", xml);
  e = ErrorOf(root);
  EXPECT_NE(e.find("2007_000003.xml: line " + std::to_string(segtune::testing::LineOf(xml, "<object>")) + ": <object>: no <bndbox>"),
            std::string::npos) << e;
  segtune::WriteFileAtomic(root / "Annotations" / "2007_000003.xml", "<annotation>\n<object>\n</annotation>");
  e = ErrorOf(root);
  EXPECT_NE(e.find("2007_000003.xml: line 3"), std::string::npos) << e;
}

TEST(VocFormat, MaskSizeDifferentFromXmlSizeIsAnError) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  std::string xml = segtune::ReadFile(root / "Annotations" / "2007_000001.xml");
  xml.replace(xml.find("<width>12</width>"), 17, "<width>13</width>");
  segtune::WriteFileAtomic(root / "Annotations" / "2007_000001.xml", xml);
  const std::string e = ErrorOf(root);
  EXPECT_NE(e.find("SegmentationObject/2007_000001.png: mask is 12x10 but the XML's <size> says 13x10"), std::string::npos) << e;
}

// voc -> COCO JSON -> voc: the same boxes and mask PNGs (void borders included); voc -> voc keeps the splits.
TEST(VocFormat, RoundTripThroughCocoReproducesBoxesMasksAndSplits) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  segtune::ConvertOptions options;
  options.input = root;
  options.output = dir / "a.json";
  options.to = "coco";
  segtune::ConvertAnnotations(options);
  options.input = dir / "a.json";
  options.from = "coco";
  options.output = dir / "out";
  options.to = "voc";
  options.images_dir = root / "JPEGImages";
  const auto report = segtune::ConvertAnnotations(options);
  EXPECT_EQ(report.images, 3);

  for (const char* folder : {"SegmentationObject", "SegmentationClass"}) {
    for (const char* id : {"2007_000001", "2007_000002"}) {
      int h0 = 0, w0 = 0, h1 = 0, w1 = 0;
      const auto a = segtune::ReadIndexedMask(root / folder / (std::string(id) + ".png"), segtune::VocColormap(), &h0, &w0);
      const auto b = segtune::ReadIndexedMask(dir / "out" / folder / (std::string(id) + ".png"), segtune::VocColormap(), &h1, &w1);
      EXPECT_EQ(a, b) << folder << "/" << id;
    }
  }
  segtune::ConversionReport r;
  const auto x = Read(root, &r);
  const auto y = Read(dir / "out", &r);
  ASSERT_EQ(y.coco.annotations.size(), x.coco.annotations.size());
  for (size_t i = 0; i < x.coco.annotations.size(); ++i) {
    const auto& p = x.coco.annotations[i];
    const auto& q = y.coco.annotations[i];
    EXPECT_EQ(q.bbox, p.bbox) << i;
    EXPECT_EQ(q.category_id, p.category_id) << i;
    EXPECT_EQ(q.iscrowd, p.iscrowd) << i;
    // VOC tools expect <pose>, <truncated> and <difficult> on every object, so a mask-only instance
    // comes back with them.
    if (!p.extra.empty()) EXPECT_EQ(q.extra, p.extra) << i;
    EXPECT_EQ(q.segmentation.rle.has_value(), p.segmentation.rle.has_value()) << i;
    if (p.segmentation.rle) EXPECT_EQ(*q.segmentation.rle, *p.segmentation.rle) << i;
  }
  EXPECT_EQ(fs::hard_link_count(dir / "out" / "JPEGImages" / "2007_000001.jpg"), 2u) << "linked, not copied";
  // A COCO file has no splits; the dataset in memory carries them from reader to writer.
  EXPECT_TRUE(y.subset_of_image.empty());
  segtune::FindAnnotationFormat("voc").write(x, dir / "direct", {}, &r);
  EXPECT_EQ(Read(dir / "direct", &r).subset_of_image, x.subset_of_image);
  EXPECT_EQ(segtune::ReadFile(dir / "direct" / "ImageSets" / "Main" / "trainval.txt"), "2007_000001\n2007_000002\n2007_000003\n");
  EXPECT_EQ(segtune::ReadFile(dir / "direct" / "ImageSets" / "Segmentation" / "train.txt"), "2007_000001\n");
}

TEST(VocFormat, WritesCocoBoxesAsOneBasedInclusivePixels) {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "widget", "", {}});
  d.coco.images.push_back({{"1", true}, "w.jpg", 40, 30, "", "", {}});
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = {"1", true}, a.category_id = 1, a.bbox = {0, 0, 40, 30}, a.iscrowd = true;
  a.extra["attributes"] = {{"color", "red"}};
  a.score = 0.5;
  d.coco.annotations.push_back(a);
  a.id = 2, a.bbox = {10, 5, 3, 2}, a.iscrowd = false;
  a.segmentation.polygons = {{10, 5, 13, 5, 13, 7, 10, 7}};
  d.coco.annotations.push_back(a);
  TempDir dir;
  segtune::ConversionReport report;
  segtune::FindAnnotationFormat("voc").write(d, dir / "v", {}, &report);
  const std::string xml = segtune::ReadFile(dir / "v" / "Annotations" / "w.xml");
  EXPECT_NE(xml.find("<xmin>1</xmin>\n      <ymin>1</ymin>\n      <xmax>40</xmax>\n      <ymax>30</ymax>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<xmin>11</xmin>\n      <ymin>6</ymin>\n      <xmax>13</xmax>\n      <ymax>7</ymax>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<difficult>1</difficult>"), std::string::npos) << "iscrowd goes out as difficult";
  ASSERT_EQ(report.warnings.size(), 2u) << "the image file is missing, and";
  EXPECT_EQ(report.warnings[1].element, "image 'w.jpg': annotation 1");
  EXPECT_NE(report.warnings[1].message.find("attributes or scores of 2 annotation(s) dropped"), std::string::npos);
  const auto back = Read(dir / "v", &report);
  EXPECT_EQ(back.coco.annotations[0].bbox, (std::array<double, 4>{0, 0, 40, 30}));
  EXPECT_EQ(back.coco.annotations[1].bbox, (std::array<double, 4>{10, 5, 3, 2}));
  EXPECT_EQ(back.coco.categories[0].name, "widget") << "names from labelmap.txt";
  ASSERT_TRUE(back.coco.annotations[1].segmentation.rle) << "the polygon is rasterized into SegmentationObject";
  EXPECT_EQ(*back.coco.annotations[1].segmentation.rle, segtune::RleFromPolygons(a.segmentation.polygons, 30, 40));
}

TEST(VocFormat, HostileImageNamesNeverLeaveTheOutput) {
  TempDir dir;
  fs::create_directories(dir / "in" / "images");
  segtune::WriteFileAtomic(dir / "in" / "x.jpg", "outside");  // What "../x.jpg" points at from images/.
  segtune::LabeledDataset d;
  d.images_dir = dir / "in" / "images";
  d.coco.categories.push_back({1, "cat", "", {}});
  for (const char* name : {"../x.jpg", "/etc/x", "../../../../../tmp/evil.jpg"}) {
    d.coco.images.push_back({{std::to_string(d.coco.images.size() + 1), true}, name, 8, 8, "", "", {}});
  }
  segtune::ConversionReport report;
  segtune::FindAnnotationFormat("voc").write(d, dir / "out" / "voc", {}, &report);
  std::set<std::string> outside;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    const std::string p = fs::relative(e.path(), dir.path()).string();
    if (p.rfind("out/voc", 0) != 0 && p.rfind("in", 0) != 0) outside.insert(p);
  }
  EXPECT_EQ(outside, (std::set<std::string>{"out"}));
  EXPECT_FALSE(fs::exists("/tmp/evil.xml"));
  for (const auto& e : fs::recursive_directory_iterator(dir / "out" / "voc")) {
    EXPECT_EQ(fs::weakly_canonical(e.path()).string().rfind(fs::weakly_canonical(dir / "out" / "voc").string(), 0), 0u) << e.path();
  }
  const std::string x = segtune::SanitizeFileName("../x.jpg");
  EXPECT_EQ(x.find('/'), std::string::npos);
  EXPECT_EQ(segtune::ReadFile(dir / "out" / "voc" / "JPEGImages" / x), "outside") << "the image itself is still copied";
  EXPECT_TRUE(fs::exists(dir / "out" / "voc" / "Annotations" / (fs::path(x).stem().string() + ".xml")));
  EXPECT_TRUE(fs::exists(dir / "out" / "voc" / "Annotations" / (segtune::SanitizeFileName("/etc/x") + ".xml")));
  int renamed = 0;
  for (const auto& w : report.warnings) renamed += w.element.find("'../x.jpg'") != std::string::npos || w.element.find("'/etc/x'") != std::string::npos;
  EXPECT_GE(renamed, 2);
}

TEST(VocFormat, ExistingOutputReplacedOnlyIfOursAndOverwrite) {
  TempDir dir;
  segtune::LabeledDataset d;
  d.coco.images.push_back({{"1", true}, "a.jpg", 8, 8, "", "", {}});
  segtune::ConversionReport report;
  fs::create_directories(dir / "theirs");
  segtune::WriteFileAtomic(dir / "theirs" / "keep.txt", "x");
  segtune::WriteOptions overwrite;
  overwrite.overwrite = true;
  EXPECT_THROW(segtune::FindAnnotationFormat("voc").write(d, dir / "theirs", overwrite, &report), segtune::UsageError);
  EXPECT_TRUE(fs::exists(dir / "theirs" / "keep.txt"));
  segtune::FindAnnotationFormat("voc").write(d, dir / "ours", {}, &report);
  EXPECT_TRUE(fs::exists(dir / "ours" / "segtune-voc.txt"));
  EXPECT_THROW(segtune::FindAnnotationFormat("voc").write(d, dir / "ours", {}, &report), segtune::UsageError);
  segtune::FindAnnotationFormat("voc").write(d, dir / "ours", overwrite, &report);
}

TEST(VocFormat, AutoDetectsVocFoldersOnly) {
  TempDir dir;
  const fs::path root = MakeVoc(dir);
  EXPECT_EQ(segtune::DetectAnnotationFormat(root).name, "voc");
  EXPECT_EQ(segtune::FindAnnotationFormat("voc").detect(root / "Annotations" / "2007_000001.xml"), 0);
  EXPECT_EQ(segtune::FindAnnotationFormat("coco").detect(root), 0);
  EXPECT_EQ(segtune::FindAnnotationFormat("cvat").detect(root), 0);
  segtune::WriteFileAtomic(dir / "c.json", "{\"images\": []}");
  EXPECT_EQ(segtune::FindAnnotationFormat("voc").detect(dir / "c.json"), 0);
  EXPECT_EQ(segtune::FindAnnotationFormat("voc").detect(segtune::testing::SourcePath("tests/data/fixtures/convert/cvat")), 0);
}

}  // namespace
