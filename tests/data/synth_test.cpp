#include "segtune/data/synth/synth.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/labelbox.h"
#include "segtune/formats/rle.h"
#include "segtune/data/synth/synth_scene.h"
#include "test_util.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using segtune::testing::TempDir;

SynthOptions SmallOptions(const fs::path& out, int images = 12) {
  SynthOptions o;
  o.out_dir = out;
  o.images = images;
  o.seed = 7;
  o.width = 128;
  o.height = 96;
  o.write_label_maps = true;
  o.threads = 2;
  return o;
}

// Every file under `dir` (relative path -> bytes).
std::map<std::string, std::string> ReadTree(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), dir).string()] = ReadFile(entry.path());
  }
  return files;
}

std::vector<cv::Point> PolygonOf(const nlohmann::json& points) {
  std::vector<cv::Point> polygon;
  for (const auto& p : points) polygon.emplace_back(p.at("x").get<int>(), p.at("y").get<int>());
  return polygon;
}

TEST(Synth, SameSeedGivesIdenticalFilesWhateverTheThreadCount) {
  TempDir tmp;
  SynthOptions o = SmallOptions(tmp / "set");
  GenerateSynthDataset(o);
  const auto first = ReadTree(tmp / "set");
  o.threads = 1;
  EXPECT_THROW(GenerateSynthDataset(o), UsageError);  // Its own previous output, but no --overwrite.
  o.overwrite = true;
  GenerateSynthDataset(o);  // Replaces its own previous output.
  const auto second = ReadTree(tmp / "set");
  ASSERT_EQ(first.size(), size_t(2 * 12 + 2));  // images, labels, export.json, synth.json
  EXPECT_TRUE(first == second);

  o.seed = 8;
  GenerateSynthDataset(o);
  const auto other = ReadTree(tmp / "set");
  EXPECT_NE(first.at("images/synth_000000.jpg"), other.at("images/synth_000000.jpg"));
}

TEST(Synth, PolygonsFilledInOrderReproduceTheLabelMaps) {
  TempDir tmp;
  const SynthOptions o = SmallOptions(tmp / "set", 20);
  GenerateSynthDataset(o);
  const auto rows = nlohmann::json::parse(ReadFile(tmp / "set" / "export.json"));
  ASSERT_EQ(rows.size(), 20u);
  long long agree = 0, total = 0, object_pixels = 0;
  for (const auto& row : rows) {
    cv::Mat painted(o.height, o.width, CV_8U, cv::Scalar(0));
    for (const auto& object : row["Label"]["objects"]) {
      const auto it = std::find(o.classes.begin(), o.classes.end(), object["title"].get<std::string>());
      ASSERT_NE(it, o.classes.end());
      cv::fillPoly(painted, std::vector<std::vector<cv::Point>>{PolygonOf(object["polygon"])},
                   cv::Scalar(double(it - o.classes.begin() + 1)));
    }
    const std::string stem = fs::path(row["External ID"].get<std::string>()).stem().string();
    const cv::Mat labels = cv::imread((tmp / "set" / "labels" / (stem + ".png")).string(), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(labels.size(), painted.size());
    agree += cv::countNonZero(labels == painted);
    total += labels.total();
    object_pixels += cv::countNonZero(labels);
  }
  EXPECT_GE(double(agree) / double(total), 0.99);
  EXPECT_GT(object_pixels, total / 20);  // The images do contain objects.
}

// Downstream tools rasterize polygons the pycocotools way; that must agree with the pixels too.
TEST(Synth, CocoRasterizationOfThePolygonsAgreesWithTheLabelMaps) {
  TempDir tmp;
  const SynthOptions o = SmallOptions(tmp / "set", 10);
  GenerateSynthDataset(o);
  const auto rows = nlohmann::json::parse(ReadFile(tmp / "set" / "export.json"));
  long long agree = 0, total = 0;
  std::vector<uint8_t> mask(size_t(o.width * o.height));
  for (const auto& row : rows) {
    cv::Mat painted(o.height, o.width, CV_8U, cv::Scalar(0));
    for (const auto& object : row["Label"]["objects"]) {
      std::vector<double> xy;
      for (const auto& p : object["polygon"]) xy.insert(xy.end(), {p["x"].get<double>(), p["y"].get<double>()});
      RleDecode(RleFromPolygon(xy, uint32_t(o.height), uint32_t(o.width)), mask.data());
      const cv::Mat object_mask(o.height, o.width, CV_8U, mask.data());
      const auto it = std::find(o.classes.begin(), o.classes.end(), object["title"].get<std::string>());
      painted.setTo(cv::Scalar(double(it - o.classes.begin() + 1)), object_mask);
    }
    const std::string stem = fs::path(row["External ID"].get<std::string>()).stem().string();
    const cv::Mat labels = cv::imread((tmp / "set" / "labels" / (stem + ".png")).string(), cv::IMREAD_UNCHANGED);
    agree += cv::countNonZero(labels == painted);
    total += labels.total();
  }
  EXPECT_GE(double(agree) / double(total), 0.98);
}

TEST(Synth, V1ExportHasLabelboxFieldLayout) {
  TempDir tmp;
  SynthOptions o = SmallOptions(tmp / "set", 6);
  o.write_label_maps = false;
  const SynthSummary summary = GenerateSynthDataset(o);
  EXPECT_EQ(summary.export_path, fs::absolute(tmp / "set" / "export.json"));
  const auto rows = nlohmann::json::parse(ReadFile(summary.export_path));
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 6u);
  std::map<std::string, std::string> schema_of;
  int objects = 0;
  for (const auto& row : rows) {
    for (const char* key : {"ID", "DataRow ID", "Labeled Data", "Label", "External ID", "Created By", "Project Name",
                            "Created At", "Updated At", "Seconds to Label", "Dataset Name", "Reviews", "View Label",
                            "Has Open Issues", "Skipped"}) {
      EXPECT_TRUE(row.contains(key)) << key;
    }
    EXPECT_EQ(row["Skipped"], false);
    const std::string url = row["Labeled Data"];
    ASSERT_EQ(url.rfind("file://", 0), 0u) << url;
    const cv::Mat image = cv::imread(url.substr(7));
    ASSERT_FALSE(image.empty()) << url;
    EXPECT_EQ(image.cols, o.width);
    EXPECT_EQ(image.rows, o.height);
    EXPECT_TRUE(row["Label"]["classifications"].is_array());
    for (const auto& object : row["Label"]["objects"]) {
      for (const char* key : {"featureId", "schemaId", "title", "value", "color", "polygon"}) {
        EXPECT_TRUE(object.contains(key)) << key;
      }
      const std::string title = object["title"];
      if (schema_of.count(title)) EXPECT_EQ(schema_of[title], object["schemaId"]);  // Stable per class.
      schema_of[title] = object["schemaId"];
      ASSERT_GE(object["polygon"].size(), 3u);
      for (const auto& p : object["polygon"]) {
        EXPECT_GE(p["x"].get<int>(), 0);
        EXPECT_LT(p["x"].get<int>(), o.width);
        EXPECT_GE(p["y"].get<int>(), 0);
        EXPECT_LT(p["y"].get<int>(), o.height);
      }
      ++objects;
    }
  }
  EXPECT_EQ(objects, summary.objects);
  const auto manifest = nlohmann::json::parse(ReadFile(tmp / "set" / "synth.json"));
  EXPECT_EQ(manifest["objects"], summary.objects);
}

TEST(Synth, NdjsonExportHasExportV2Layout) {
  TempDir tmp;
  SynthOptions o = SmallOptions(tmp / "set", 4);
  o.format = SynthExportFormat::kLabelboxNdjson;
  o.classes = {"ball", "cup", "sign"};
  const SynthSummary summary = GenerateSynthDataset(o);
  EXPECT_EQ(summary.export_path.filename(), "export.ndjson");
  std::istringstream lines(ReadFile(summary.export_path));
  int rows = 0, objects = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line);
    ++rows;
    EXPECT_EQ(row["media_attributes"]["width"], o.width);
    EXPECT_EQ(row["media_attributes"]["height"], o.height);
    EXPECT_EQ(row["data_row"]["row_data"].get<std::string>().rfind("file://", 0), 0u);
    ASSERT_EQ(row["projects"].size(), 1u);
    const auto& label = row["projects"].begin().value()["labels"].at(0);
    for (const auto& object : label["annotations"]["objects"]) {
      EXPECT_EQ(object["annotation_kind"], "ImagePolygon");
      EXPECT_TRUE(object.contains("feature_id"));
      EXPECT_TRUE(object.contains("feature_schema_id"));
      EXPECT_NE(std::find(o.classes.begin(), o.classes.end(), object["name"]), o.classes.end());
      EXPECT_GE(object["polygon"].size(), 3u);
      ++objects;
    }
  }
  EXPECT_EQ(rows, 4);
  EXPECT_EQ(objects, summary.objects);
}

// synth -> labelbox2coco: every object becomes one annotation of its class, on its image.
TEST(Synth, Labelbox2CocoRoundTripKeepsEveryObject) {
  for (const auto format : {SynthExportFormat::kLabelboxV1, SynthExportFormat::kLabelboxNdjson}) {
    TempDir tmp;
    SynthOptions o = SmallOptions(tmp / "set", 8);
    o.format = format;
    const SynthSummary summary = GenerateSynthDataset(o);
    LabelboxOptions lb;
    lb.input = summary.export_path;
    lb.output = tmp / "coco.json";
    LabelboxReport report;
    const CocoDataset coco = LabelboxToCoco(lb, &report);
    EXPECT_EQ(coco.images.size(), 8u);
    EXPECT_EQ(int(coco.annotations.size()), summary.objects);
    ASSERT_EQ(coco.categories.size(), o.classes.size());
    std::map<int64_t, std::string> name_of;
    for (const auto& c : coco.categories) name_of[c.id] = c.name;
    std::map<std::string, int> per_class;
    for (const auto& a : coco.annotations) {
      ++per_class[name_of[a.category_id]];
      ASSERT_EQ(a.segmentation.polygons.size(), 1u);
      EXPECT_GT(a.area, 0);
    }
    std::map<std::string, int> expected;
    for (const auto& [name, n] : summary.objects_per_class) {
      if (n > 0) expected[name] = n;
    }
    EXPECT_EQ(per_class, expected);
    for (const auto& image : coco.images) EXPECT_EQ(image.file_name.rfind("file://", 0), 0u) << image.file_name;
  }
}

TEST(Synth, SceneLabelsAreThePolygonsFilledInZOrder) {
  const std::vector<synth::ShapeKind> kinds{synth::ShapeKind::kBottle, synth::ShapeKind::kCan, synth::ShapeKind::kBox,
                                            synth::ShapeKind::kBall, synth::ShapeKind::kCup, synth::ShapeKind::kSign};
  int occluded = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    const synth::Scene scene = synth::RenderScene(kinds, {160, 160}, 3, i);
    const cv::Mat reference = synth::RasterizeLabels({160, 160}, scene.objects);
    EXPECT_EQ(cv::countNonZero(reference != scene.labels), 0) << "image " << i;
    for (const auto& o : scene.objects) {
      EXPECT_GE(o.visible, o.area / 2);  // Every object stays at least half visible.
      occluded += o.visible < o.area;
    }
  }
  EXPECT_GT(occluded, 0);  // Some objects do overlap.
}

TEST(Synth, RefusesToReplaceADirectoryItDidNotWrite) {
  TempDir tmp;
  fs::create_directories(tmp / "mine");
  WriteFileAtomic(tmp / "mine" / "precious.txt", "keep me");
  EXPECT_THROW(GenerateSynthDataset(SmallOptions(tmp / "mine", 1)), UsageError);
  SynthOptions o = SmallOptions(tmp / "mine", 1);
  o.overwrite = true;
  EXPECT_THROW(GenerateSynthDataset(o), UsageError);
  EXPECT_EQ(ReadFile(tmp / "mine" / "precious.txt"), "keep me");
}

TEST(Synth, UnknownClassNamesTheKnownOnes) {
  TempDir tmp;
  SynthOptions o = SmallOptions(tmp / "set", 1);
  o.classes = {"bottle", "giraffe"};
  try {
    GenerateSynthDataset(o);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("giraffe"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("bottle, can, box, ball, cup, sign"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(tmp / "set"));
}

TEST(SynthCli, WritesTheExportAndNamesItInTheLastLine) {
  TempDir tmp;
  const auto result = segtune::testing::RunSegtune("synth --out '" + (tmp / "src").string() +
                                                   "' --images 3 --classes ball,cup,sign --seed 2 --size 64x48");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("export.json"), std::string::npos) << result.output;
  EXPECT_TRUE(fs::exists(tmp / "src" / "images" / "synth_000002.jpg"));
  const auto bad = segtune::testing::RunSegtune("synth --out '" + (tmp / "x").string() + "' --size 64by48");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

}  // namespace
}  // namespace segtune
