// Predictions back to the labeling tool (docs/formats.md §18): the labelbox-mal writer, the tfrecord
// and coco-results readers, and the Labelbox data row ids labelbox2coco keeps for them.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/base64.h"
#include "segtune/core/error.h"
#include "segtune/data/coco2tfrecord.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/labelbox.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/inference/detection_objects.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using segtune::testing::TempDir;

std::vector<json> Lines(const fs::path& path) {
  std::vector<json> lines;
  std::istringstream in(segtune::ReadFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

std::set<std::string> Keys(const json& object) {
  std::set<std::string> keys;
  for (const auto& item : object.items()) keys.insert(item.key());
  return keys;
}

// A 40x30 image: a 10x8 block at (5, 4) with a 2x2 hole, and a far 3x3 speck.
segtune::Rle BlockWithHole() {
  std::vector<uint8_t> m(30 * 40, 0);
  for (int y = 4; y < 12; ++y)
    for (int x = 5; x < 15; ++x) m[y * 40 + x] = 1;
  for (int y = 7; y < 9; ++y)
    for (int x = 9; x < 11; ++x) m[y * 40 + x] = 0;
  for (int y = 20; y < 23; ++y)
    for (int x = 30; x < 33; ++x) m[y * 40 + x] = 1;
  return segtune::RleEncode(m.data(), 30, 40);
}

// Predictions on two images of a labelbox2coco dataset: one class per Labelbox tool.
segtune::LabeledDataset Predictions() {
  segtune::LabeledDataset d;
  d.coco.categories.push_back({1, "bottle", "", {{"labelbox_tool", "polygon"}}});
  d.coco.categories.push_back({2, "can", "", {{"labelbox_tool", "bbox"}}});
  d.coco.categories.push_back({3, "cap", "", {{"labelbox_tool", "mask"}}});
  d.coco.categories.push_back({4, "lid", "", {}});
  for (int i = 0; i < 2; ++i) {
    segtune::CocoImage image;
    image.id = {"clrow000" + std::to_string(i + 1), false};
    image.file_name = "img" + std::to_string(i) + ".jpg";
    image.width = 40, image.height = 30;
    if (i == 0) image.extra["labelbox_data_row_id"] = "clrow0001";
    if (i == 1) image.extra["labelbox_global_key"] = "img-0002";
    d.coco.images.push_back(image);
  }
  auto add = [&](int image, int64_t category, double score) -> segtune::CocoAnnotation& {
    segtune::CocoAnnotation a;
    a.id = static_cast<int64_t>(d.coco.annotations.size() + 1);
    a.image_id = d.coco.images[image].id;
    a.category_id = category;
    a.score = score;
    d.coco.annotations.push_back(a);
    return d.coco.annotations.back();
  };
  add(0, 1, 0.9).segmentation.rle = BlockWithHole();             // Polygon tool, mask prediction.
  add(0, 2, 0.8).bbox = {2.5, 3, 10, 6};                          // Box tool.
  add(1, 3, 0.7).segmentation.polygons = {{1, 1, 9, 1, 9, 5, 1, 5}};  // Mask tool, polygon prediction.
  segtune::CocoAnnotation& lid = add(1, 4, 1.5);                  // No tool recorded: its own geometry.
  lid.segmentation.rle = segtune::RleFromBbox({20, 10, 4, 4}, 30, 40);
  lid.bbox = {20, 10, 4, 4};
  return d;
}

segtune::ConversionReport WriteMal(const segtune::LabeledDataset& d, const fs::path& out, bool overwrite = false) {
  segtune::ConversionReport report;
  segtune::WriteOptions options;
  options.overwrite = overwrite;
  segtune::FindAnnotationFormat("labelbox-mal").write(d, out, options, &report);
  return report;
}

TEST(LabelboxMal, EachLineHasExactlyTheImportFieldsAndTheGeometryOfItsTool) {
  TempDir dir;
  const fs::path out = dir / "mal.ndjson";
  const auto report = WriteMal(Predictions(), out);
  const auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 5u);
  // bottle: the block traced (hole dropped with a warning) and the 9-pixel speck: two polygon objects.
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(Keys(lines[k]), (std::set<std::string>{"uuid", "dataRow", "name", "polygon", "classifications", "confidence"}));
    EXPECT_EQ(lines[k]["dataRow"], (json{{"id", "clrow0001"}}));
    EXPECT_EQ(lines[k]["name"], "bottle");
    EXPECT_DOUBLE_EQ(lines[k]["confidence"].get<double>(), 0.9);
    EXPECT_EQ(lines[k]["classifications"], json::array());
  }
  std::vector<double> outer;
  for (const auto& p : lines[0]["polygon"]) {
    EXPECT_EQ(Keys(p), (std::set<std::string>{"x", "y"}));
    outer.push_back(p["x"]), outer.push_back(p["y"]);
  }
  // The traced outline covers the block (holes are not in a Labelbox polygon): 80 pixels with the hole's 4.
  const segtune::Rle filled = segtune::RleFromPolygon(outer, 30, 40);
  const segtune::Rle block = segtune::RleFromBbox({5, 4, 10, 8}, 30, 40);
  EXPECT_EQ(segtune::RleArea(filled), 80u);
  EXPECT_EQ(segtune::RleIou({filled}, {block}, {false})[0], 1.0);
  bool hole_warned = false;
  for (const auto& w : report.warnings) hole_warned |= w.message.find("1 hole(s) dropped") != std::string::npos;
  EXPECT_TRUE(hole_warned);
  // can: a bbox {top, left, height, width}.
  EXPECT_EQ(Keys(lines[2]), (std::set<std::string>{"uuid", "dataRow", "name", "bbox", "classifications", "confidence"}));
  EXPECT_EQ(lines[2]["name"], "can");
  EXPECT_EQ(lines[2]["bbox"], (json{{"top", 3.0}, {"left", 2.5}, {"height", 6.0}, {"width", 10.0}}));
  // cap and lid: masks (next test).
  EXPECT_EQ(lines[3]["name"], "cap");
  EXPECT_TRUE(lines[3].contains("mask"));
  EXPECT_EQ(lines[4]["name"], "lid");
}

TEST(LabelboxMal, MasksArePngsOfTheImageSizeAndDataRowsMayBeGlobalKeys) {
  TempDir dir;
  const fs::path out = dir / "mal.ndjson";
  segtune::LabeledDataset d = Predictions();
  d.coco.annotations.erase(d.coco.annotations.begin(), d.coco.annotations.begin() + 2);  // Image 2 only.
  WriteMal(d, out);
  const auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Keys(lines[0]), (std::set<std::string>{"uuid", "dataRow", "name", "mask", "classifications", "confidence"}));
  EXPECT_EQ(lines[0]["dataRow"], (json{{"globalKey", "img-0002"}}));
  EXPECT_EQ(lines[0]["name"], "cap");
  EXPECT_EQ(Keys(lines[0]["mask"]), (std::set<std::string>{"imBytes", "colorRGB"}));
  EXPECT_EQ(lines[0]["mask"]["colorRGB"], (json{255, 255, 255}));
  const std::string png = segtune::Base64Decode(lines[0]["mask"]["imBytes"].get<std::string>()).value();
  const cv::Mat mask = cv::imdecode(std::vector<uint8_t>(png.begin(), png.end()), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(mask.type(), CV_8UC3);
  ASSERT_EQ(mask.rows, 30);
  ASSERT_EQ(mask.cols, 40);
  const segtune::Rle expected = segtune::RleFromPolygon({1, 1, 9, 1, 9, 5, 1, 5}, 30, 40);
  std::vector<uint8_t> want(30 * 40);
  segtune::RleDecode(expected, want.data());
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) {
      const cv::Vec3b px = mask.at<cv::Vec3b>(y, x);
      ASSERT_EQ(px, want[y * 40 + x] ? cv::Vec3b(255, 255, 255) : cv::Vec3b(0, 0, 0)) << x << "," << y;
    }
  // lid: no tool recorded, an RLE prediction: a mask; its score is clamped into [0, 1].
  EXPECT_TRUE(lines[1].contains("mask"));
  EXPECT_DOUBLE_EQ(lines[1]["confidence"].get<double>(), 1.0);
}

TEST(LabelboxMal, UuidsAreNameBasedVersion8UniqueAndTheSameOnEveryRun) {
  TempDir dir;
  WriteMal(Predictions(), dir / "a.ndjson");
  WriteMal(Predictions(), dir / "b.ndjson");
  EXPECT_EQ(segtune::ReadFile(dir / "a.ndjson"), segtune::ReadFile(dir / "b.ndjson"));
  std::set<std::string> uuids;
  const std::regex v8("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const auto& line : Lines(dir / "a.ndjson")) {
    EXPECT_TRUE(std::regex_match(line["uuid"].get<std::string>(), v8)) << line["uuid"];
    uuids.insert(line["uuid"].get<std::string>());
  }
  EXPECT_EQ(uuids.size(), 5u);
  // Another model's predictions for the same data rows (Labelbox refuses a uuid the project has seen).
  segtune::LabeledDataset moved = Predictions();
  for (auto& a : moved.coco.annotations) {
    a.bbox[0] += 1;
    for (auto& part : a.segmentation.polygons) part[0] += 1;
    if (a.score) *a.score *= 0.5;
  }
  WriteMal(moved, dir / "c.ndjson");
  for (const auto& line : Lines(dir / "c.ndjson")) EXPECT_EQ(uuids.count(line["uuid"].get<std::string>()), 0u) << line.dump();
  // A rerun may replace its own output with --overwrite; never another file.
  EXPECT_THROW(WriteMal(Predictions(), dir / "a.ndjson"), segtune::UsageError);
  WriteMal(Predictions(), dir / "a.ndjson", true);
  segtune::WriteFileAtomic(dir / "notes.txt", "mine");
  EXPECT_THROW(WriteMal(Predictions(), dir / "notes.txt", true), segtune::UsageError);
  EXPECT_EQ(segtune::ReadFile(dir / "notes.txt"), "mine");
}

TEST(LabelboxMal, ImageWithoutDataRowIdIsAnErrorNamingIt) {
  TempDir dir;
  segtune::LabeledDataset d = Predictions();
  d.coco.images[1].extra = json::object();
  try {
    WriteMal(d, dir / "mal.ndjson");
    FAIL() << "expected UsageError";
  } catch (const segtune::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("image 'img1.jpg' (id clrow0002) has no Labelbox data row id"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--reference"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "mal.ndjson"));
}

// The reference: what labelbox2coco wrote for two data rows.
fs::path WriteReference(const fs::path& dir) {
  segtune::CocoDataset ref;
  ref.categories.push_back({1, "bottle", "bottle", {{"labelbox_tool", "polygon"}}});
  ref.categories.push_back({2, "can", "can", {{"labelbox_tool", "bbox"}}});
  for (int i = 1; i <= 2; ++i) {
    segtune::CocoImage image;
    image.id = {"clrow000" + std::to_string(i), false};
    image.file_name = "images/img" + std::to_string(i) + ".jpg";
    image.width = 40, image.height = 30;
    image.extra["labelbox_data_row_id"] = image.id.text;
    ref.images.push_back(image);
  }
  segtune::SaveCoco(ref, dir / "reference.json");
  return dir / "reference.json";
}

TEST(CocoResultsReader, JoinsResultsToTheReferenceAndKeepsScores) {
  TempDir dir;
  const fs::path ref = WriteReference(dir.path());
  segtune::WriteFileAtomic(dir / "results.json",
                           R"([{"image_id": "clrow0002", "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.75},
                               {"image_id": "clrow0001", "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.5}])");
  EXPECT_EQ(segtune::DetectAnnotationFormat(dir / "results.json").name, "coco-results");
  EXPECT_EQ(segtune::DetectAnnotationFormat(ref).name, "coco");
  segtune::ReadOptions options;
  options.reference = ref;
  segtune::ConversionReport report;
  const auto d = segtune::ReadAnnotations(dir / "results.json", "auto", options, &report);
  ASSERT_EQ(d.coco.images.size(), 2u);
  EXPECT_EQ(d.coco.images[0].extra["labelbox_data_row_id"], "clrow0001");
  ASSERT_EQ(d.coco.annotations.size(), 2u);
  EXPECT_EQ(d.coco.annotations[0].image_id.text, "clrow0002");
  EXPECT_EQ(*d.coco.annotations[0].score, 0.75);
  EXPECT_EQ(d.coco.annotations[0].area, 12);
  EXPECT_EQ(d.coco.categories[1].extra["labelbox_tool"], "bbox");
  EXPECT_EQ(d.images_dir, dir.path());

  // Through `segtune convert` to MAL: the data rows and names of the reference.
  segtune::ConvertOptions c;
  c.from = "coco-results", c.to = "labelbox-mal", c.input = dir / "results.json", c.output = dir / "mal.ndjson";
  c.reference = ref, c.check_images = false;
  segtune::ConvertAnnotations(c);
  const auto lines = Lines(dir / "mal.ndjson");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["dataRow"], (json{{"id", "clrow0002"}}));
  EXPECT_EQ(lines[0]["name"], "can");
  EXPECT_EQ(lines[0]["bbox"], (json{{"top", 2.0}, {"left", 1.0}, {"height", 4.0}, {"width", 3.0}}));
  EXPECT_DOUBLE_EQ(lines[0]["confidence"].get<double>(), 0.75);
  EXPECT_EQ(lines[1]["dataRow"], (json{{"id", "clrow0001"}}));
  EXPECT_EQ(lines[1]["name"], "bottle");  // The polygon tool: the box as a polygon.
  EXPECT_EQ(lines[1]["polygon"], (json{{{"x", 0.0}, {"y", 0.0}}, {{"x", 2.0}, {"y", 0.0}}, {{"x", 2.0}, {"y", 2.0}},
                                       {{"x", 0.0}, {"y", 2.0}}}));
}

TEST(CocoResultsReader, UnknownImageOrCategoryNamesTheFileAndResultAndMissingReferenceIsAUsageError) {
  TempDir dir;
  const fs::path ref = WriteReference(dir.path());
  segtune::WriteFileAtomic(dir / "results.json", R"([{"image_id": "clrow0001", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
    {"image_id": "other", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])");
  segtune::WriteFileAtomic(dir / "bad_category.json", R"([{"image_id": "clrow0001", "category_id": 9, "bbox": [0, 0, 1, 1], "score": 0.5}])");
  segtune::WriteFileAtomic(dir / "broken.json", R"([{"image_id": "clrow0001", "category_id": 1, "bbox": [0, 0], "score": 0.5}])");
  segtune::ReadOptions options;
  options.reference = ref;
  segtune::ConversionReport report;
  auto message = [&](const std::string& file) {
    try {
      segtune::ReadAnnotations(dir / file, "coco-results", options, &report);
    } catch (const segtune::FormatError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("results.json").find("results.json: results[1]: image_id 'other' is not an image of"), std::string::npos)
      << message("results.json");
  EXPECT_NE(message("bad_category.json").find("bad_category.json: results[0]: category_id 9 is not a category"),
            std::string::npos)
      << message("bad_category.json");
  EXPECT_NE(message("broken.json").find("broken.json"), std::string::npos) << message("broken.json");
  EXPECT_NE(message("broken.json").find("[0]"), std::string::npos) << message("broken.json");
  EXPECT_THROW(segtune::ReadAnnotations(dir / "results.json", "coco-results", {}, &report), segtune::UsageError);
}

std::string Png(const std::vector<uint8_t>& pixels, int h, int w) { return segtune::EncodeGrayPng(pixels.data(), h, w); }

std::string Jpeg(int h, int w) {
  cv::Mat image(h, w, CV_8UC3, cv::Scalar(10, 200, 30));
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

// Record 1: ground truth with an instance mask; record 2: detections with masks (segtune infer, Mask
// R-CNN); record 3: a semantic model's class map.
fs::path WriteRecords(const fs::path& dir) {
  segtune::TFRecordWriter writer(dir / "preds.record");
  std::vector<uint8_t> mask(30 * 40, 0);
  for (int y = 3; y < 9; ++y)
    for (int x = 4; x < 14; ++x) mask[y * 40 + x] = 1;
  {
    segtune::ObjectDetectionExample od;
    od.encoded = Jpeg(30, 40), od.format = "jpeg", od.filename = "../../gt.jpg", od.source_id = "7";
    od.width = 40, od.height = 30;
    od.boxes = {{0.1f, 0.1f, 0.3f, 0.35f}};
    od.class_label = {2}, od.class_text = {"can"}, od.is_crowd = {0}, od.area = {60};
    od.has_instance_masks = true;
    od.instance_masks = {Png(mask, 30, 40)};
    writer.Write(segtune::ToExample(od).SerializeAsString());
  }
  {  // The keys `segtune infer` adds for a Mask R-CNN model.
    segtune::ObjectDetectionExample od;
    od.filename = "img1.jpg", od.source_id = "clrow0001", od.width = 40, od.height = 30;
    tensorflow::Example ex = segtune::ToExample(od);
    segtune::DetectedObject object;
    object.x1 = 4, object.y1 = 3, object.x2 = 14, object.y2 = 9, object.score = 0.6f, object.label = 1;
    object.mask = cv::Mat(30, 40, CV_8UC1, mask.data()).clone();
    segtune::AddDetectionKeys(&ex, {object}, 30, 40, /*with_masks=*/true);
    writer.Write(ex.SerializeAsString());
  }
  {
    segtune::ObjectDetectionExample od;
    od.filename = "img2.jpg", od.source_id = "clrow0002", od.width = 40, od.height = 30;
    od.has_detections = true;
    od.detection_boxes = {{0.1f, 0.1f, 0.3f, 0.35f}, {0.5f, 0.5f, 0.6f, 0.6f}};
    od.detection_scores = {0.6f, 0.8f};
    od.detection_labels = {2, 2};
    tensorflow::Example ex = segtune::ToExample(od);
    std::vector<uint8_t> map(30 * 40, 0);
    for (size_t i = 0; i < map.size(); ++i) map[i] = mask[i] ? 2 : 0;
    map[29 * 40 + 39] = 2;
    segtune::SetBytes(&ex, "image/segmentation/class/predicted", Png(map, 30, 40));
    writer.Write(ex.SerializeAsString());
  }
  writer.Close();
  return dir / "preds.record";
}

TEST(TfrecordReader, ReadsGroundTruthDetectionMasksAndSemanticClassMaps) {
  TempDir dir;
  const fs::path record = WriteRecords(dir.path());
  EXPECT_EQ(segtune::DetectAnnotationFormat(record).name, "tfrecord");
  segtune::ConversionReport report;
  const auto d = segtune::ReadAnnotations(record, "auto", {}, &report);
  ASSERT_EQ(d.coco.images.size(), 3u);
  EXPECT_EQ(d.coco.images[0].id.text, "7");
  EXPECT_TRUE(d.coco.images[0].id.is_number);
  EXPECT_EQ(d.coco.images[0].file_name, "gt.jpg");  // "../../" is never a path in an output.
  EXPECT_EQ(d.embedded_images.count("gt.jpg"), 1u);
  ASSERT_EQ(d.coco.annotations.size(), 3u);
  const auto& gt = d.coco.annotations[0];
  EXPECT_EQ(gt.category_id, 2);
  EXPECT_FALSE(gt.score);
  EXPECT_NEAR(gt.bbox[0], 4, 1e-4);
  EXPECT_NEAR(gt.bbox[2], 10, 1e-4);
  EXPECT_EQ(segtune::RleArea(*gt.segmentation.rle), 60u);
  const auto& det = d.coco.annotations[1];
  EXPECT_EQ(det.image_id.text, "clrow0001");
  EXPECT_NEAR(*det.score, 0.6, 1e-6);
  EXPECT_EQ(*det.segmentation.rle, *gt.segmentation.rle);
  const auto& semantic = d.coco.annotations[2];  // One RLE for both class-2 regions.
  EXPECT_EQ(semantic.category_id, 2);
  EXPECT_EQ(segtune::RleArea(*semantic.segmentation.rle), 61u);
  EXPECT_NEAR(*semantic.score, 0.7, 1e-6);
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].name, "class_1");
  EXPECT_EQ(d.coco.categories[1].name, "can");
}

// COCO -> coco2tfrecord -> tfrecord reader gives back the same images, boxes, masks and categories.
TEST(TfrecordReader, RoundTripsWhatCoco2tfrecordWrites) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "a.jpg", Jpeg(30, 40));
  segtune::CocoDataset coco;
  coco.categories = {{3, "bottle", "", {}}, {5, "can", "", {}}};
  coco.images.push_back({{"12", true}, "a.jpg", 40, 30, "", "", {}});
  segtune::CocoAnnotation a;
  a.id = 1, a.image_id = coco.images[0].id, a.category_id = 5, a.bbox = {4, 3, 10, 6}, a.area = 60;
  a.segmentation.polygons = {{4, 3, 14, 3, 14, 9, 4, 9}};
  coco.annotations.push_back(a);
  a.id = 2, a.category_id = 3, a.bbox = {20, 10, 5, 5}, a.area = 25;
  a.segmentation.polygons = {{20, 10, 25, 10, 25, 15, 20, 15}};
  coco.annotations.push_back(a);
  segtune::CocoToTfRecordOptions options;
  options.images_dir = dir.path();
  options.output = (dir / "gt.record").string();
  options.include_masks = true;
  segtune::ConvertCocoToTfRecord(coco, options);
  segtune::ConversionReport report;
  const auto d = segtune::ReadAnnotations(dir / "gt.record", "auto", {}, &report);
  ASSERT_EQ(d.coco.images.size(), 1u);
  EXPECT_EQ(d.coco.images[0].id, coco.images[0].id);
  EXPECT_EQ(d.coco.images[0].file_name, "a.jpg");
  EXPECT_EQ(d.embedded_images.at("a.jpg"), segtune::ReadFile(dir / "a.jpg"));
  ASSERT_EQ(d.coco.annotations.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& got = d.coco.annotations[i];
    const auto& want = coco.annotations[i];
    EXPECT_EQ(got.category_id, want.category_id);
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(got.bbox[k], want.bbox[k], 1e-4) << i << " " << k;
    EXPECT_EQ(got.area, want.area);
    EXPECT_EQ(*got.segmentation.rle, segtune::RleFromPolygons(want.segmentation.polygons, 30, 40)) << i;
  }
  ASSERT_EQ(d.coco.categories.size(), 2u);
  EXPECT_EQ(d.coco.categories[0].name, "bottle");
  EXPECT_EQ(d.coco.categories[1].name, "can");
}

TEST(TfrecordReader, ReferenceGivesDataRowsAndNamesAndMalLinesReferBackToIt) {
  TempDir dir;
  const fs::path record = WriteRecords(dir.path());
  segtune::ConvertOptions c;
  c.from = "tfrecord", c.to = "labelbox-mal", c.input = record, c.output = dir / "mal.ndjson";
  c.reference = WriteReference(dir.path()), c.check_images = false;
  try {
    segtune::ConvertAnnotations(c);
    FAIL() << "image 7 is not in the reference, so it has no data row";
  } catch (const segtune::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("gt.jpg"), std::string::npos) << e.what();
  }
  // Without the ground-truth record: every line names a reference data row and category.
  segtune::ConversionReport report;
  segtune::ReadOptions read;
  read.reference = c.reference;
  segtune::LabeledDataset d = segtune::ReadAnnotations(record, "tfrecord", read, &report);
  EXPECT_EQ(d.coco.images[1].file_name, "images/img1.jpg");
  EXPECT_EQ(d.coco.images[1].extra["labelbox_data_row_id"], "clrow0001");
  d.coco.images.erase(d.coco.images.begin());
  d.coco.annotations.erase(d.coco.annotations.begin());
  d.embedded_images.clear();
  segtune::WriteAnnotations(d, c, &report);
  const auto lines = Lines(c.output);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0]["dataRow"]["id"], "clrow0001");
  EXPECT_EQ(lines[0]["name"], "bottle");
  EXPECT_TRUE(lines[0].contains("polygon"));
  EXPECT_EQ(lines.back()["dataRow"]["id"], "clrow0002");
  EXPECT_EQ(lines.back()["name"], "can");
  // The class map's class-2 pixels (the block and one far pixel) in one object: their box.
  EXPECT_EQ(lines.back()["bbox"], (json{{"top", 3.0}, {"left", 4.0}, {"height", 27.0}, {"width", 36.0}}));
}

TEST(TfrecordReader, MalformedRecordsNameTheFileAndRecord) {
  TempDir dir;
  {
    segtune::TFRecordWriter writer(dir / "bad.record");
    segtune::ObjectDetectionExample ok;
    ok.source_id = "1", ok.width = 4, ok.height = 4;
    writer.Write(segtune::ToExample(ok).SerializeAsString());
    tensorflow::Example ex = segtune::ToExample(ok);
    segtune::SetFloatList(&ex, "image/detection/score", {0.5f, 0.4f});
    segtune::SetFloatList(&ex, "image/detection/bbox/ymin", {0.1f});
    segtune::SetFloatList(&ex, "image/detection/bbox/xmin", {0.1f});
    segtune::SetFloatList(&ex, "image/detection/bbox/ymax", {0.2f});
    segtune::SetFloatList(&ex, "image/detection/bbox/xmax", {0.2f});
    writer.Write(ex.SerializeAsString());
    writer.Close();
  }
  segtune::ConversionReport report;
  try {
    segtune::ReadAnnotations(dir / "bad.record", "tfrecord", {}, &report);
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.record: record 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("image/detection/score"), std::string::npos) << e.what();
  }
  std::string bytes = segtune::ReadFile(dir / "bad.record");
  bytes[bytes.size() - 10] ^= 0x55;  // Inside record 1's data: its CRC no longer matches.
  segtune::WriteFileAtomic(dir / "corrupt.record", bytes);
  try {
    segtune::ReadAnnotations(dir / "corrupt.record", "tfrecord", {}, &report);
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.record"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("record 1"), std::string::npos) << e.what();
  }
}

TEST(TfrecordReader, EmbeddedImagesGoOnlyIntoImagesDirUnderSanitizedNames) {
  TempDir dir;
  const fs::path record = WriteRecords(dir.path());
  segtune::ConvertOptions c;
  c.from = "tfrecord", c.to = "coco", c.input = record, c.output = dir / "out" / "coco.json";
  c.images_dir = dir / "out" / "images";
  c.skip_missing = true;  // Records 2 and 3 hold no image bytes.
  EXPECT_EQ(segtune::ConvertAnnotations(c).skipped_images, 2);
  EXPECT_TRUE(fs::exists(dir / "out" / "images" / "gt.jpg"));
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "gt.jpg"));
  const segtune::CocoDataset coco = segtune::LoadCoco(c.output);
  EXPECT_EQ(coco.images[0].file_name, "gt.jpg");
}

TEST(Labelbox2Coco, KeepsDataRowIdsAndEachClassTool) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "v2.ndjson",
      R"({"data_row": {"id": "clrowA", "global_key": "key-a", "row_data": "https://x/a.jpg"}, "media_attributes": {"width": 40, "height": 30}, )"
      R"("projects": {"p": {"labels": [{"annotations": {"objects": [)"
      R"({"name": "can", "annotation_kind": "ImageBoundingBox", "bounding_box": {"top": 1, "left": 2, "height": 3, "width": 4}},)"
      R"({"name": "bottle", "annotation_kind": "ImagePolygon", "polygon": [{"x": 1, "y": 1}, {"x": 9, "y": 1}, {"x": 9, "y": 9}]}]}}]}}})"
      "\n");
  segtune::WriteFileAtomic(dir / "v1.json",
      R"([{"ID": "cllabel1", "DataRow ID": "clrowB", "Labeled Data": "https://x/b.jpg", "Label": {"objects": [)"
      R"({"title": "can", "value": "can", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}]}}])");
  segtune::LabelboxOptions options;
  options.input = dir / "v2.ndjson";
  segtune::LabelboxReport report;
  const segtune::CocoDataset v2 = segtune::LabelboxToCoco(options, &report);
  ASSERT_EQ(v2.images.size(), 1u);
  EXPECT_EQ(v2.images[0].extra["labelbox_data_row_id"], "clrowA");
  EXPECT_EQ(v2.images[0].extra["labelbox_global_key"], "key-a");
  ASSERT_EQ(v2.categories.size(), 2u);
  EXPECT_EQ(v2.categories[0].name, "bottle");
  EXPECT_EQ(v2.categories[0].extra["labelbox_tool"], "polygon");
  EXPECT_EQ(v2.categories[1].extra["labelbox_tool"], "bbox");
  options.input = dir / "v1.json";
  const segtune::CocoDataset v1 = segtune::LabelboxToCoco(options, &report);
  ASSERT_EQ(v1.images.size(), 1u);
  EXPECT_EQ(v1.images[0].id.text, "cllabel1");  // The label's id, as before...
  EXPECT_EQ(v1.images[0].extra["labelbox_data_row_id"], "clrowB");  // ...and the data row MAL needs.
}

}  // namespace
