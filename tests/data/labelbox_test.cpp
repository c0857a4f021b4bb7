#include "segtune/data/labelbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "http_server.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/rle.h"
#include "test_util.h"

extern char** environ;

namespace fs = std::filesystem;
using segtune::CocoAnnotation;
using segtune::CocoDataset;
using segtune::LabelboxOptions;
using segtune::LabelboxReport;
using segtune::testing::HttpRoute;
using segtune::testing::HttpServer;
using segtune::testing::TempDir;

namespace {

// A fixture file with "{{SERVER}}" replaced by the test server's address, written under dir.
fs::path Fixture(const std::string& name, const TempDir& dir, const HttpServer* server) {
  std::string text = segtune::ReadFile(segtune::testing::SourcePath("tests/data/fixtures/labelbox/" + name));
  const std::string base = server ? server->Url("") : "http://127.0.0.1:9";
  for (size_t at; (at = text.find("{{SERVER}}")) != std::string::npos;) text.replace(at, 10, base);
  const fs::path out = dir / name;
  segtune::WriteFileAtomic(out, text);
  return out;
}

HttpRoute Png(const cv::Mat& image) {
  std::vector<uchar> bytes;
  cv::imencode(".png", image, bytes);
  HttpRoute route;
  route.body.assign(bytes.begin(), bytes.end());
  return route;
}

// With a server, the API key may go to it (as --api-key-host would allow); by default only to labelbox.com.
LabelboxOptions Options(const fs::path& input, const HttpServer* key_host = nullptr) {
  LabelboxOptions o;
  o.input = input;
  o.api_key = "test-key";
  if (key_host) o.api_key_hosts.push_back(key_host->Url(""));
  o.download.retries = 0;
  o.download.stall_seconds = 2;
  return o;
}

const segtune::CocoCategory& Category(const CocoDataset& d, int64_t id) {
  for (const auto& c : d.categories)
    if (c.id == id) return c;
  throw std::runtime_error("no category " + std::to_string(id));
}

std::string ClassOf(const CocoDataset& d, const CocoAnnotation& a) { return Category(d, a.category_id).name; }

std::array<double, 4> Box(double x, double y, double w, double h) { return {x, y, w, h}; }

}  // namespace

TEST(Labelbox, ConvertsV1ObjectsWithMaskFetchedWithApiKey) {
  HttpServer server;
  TempDir dir;
  cv::Mat mask(48, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  mask(cv::Rect(5, 20, 10, 10)).setTo(cv::Scalar(255, 255, 255));
  server.SetRoute("/masks/ckl1feat0005.png", Png(mask));
  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("v1_export.json", dir, &server), &server), &report);

  EXPECT_EQ(report.flavour, "v1 JSON (Label.objects)");
  EXPECT_EQ(report.rows, 3);
  EXPECT_EQ(report.skipped_rows, 2);  // "Skipped": true and Label "Skip".
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].id.text, "ckl1label0001");
  EXPECT_FALSE(d.images[0].id.is_number);
  EXPECT_EQ(d.images[0].file_name,
            "https://storage.labelbox.com/ckorg%2Fbottle_001.jpg?Expires=1700000000&Signature=abc");
  EXPECT_EQ(d.images[0].coco_url, d.images[0].file_name);
  EXPECT_EQ(d.images[0].width, 64);  // From the mask: the v1 export has no size.
  EXPECT_EQ(d.images[0].height, 48);

  ASSERT_EQ(d.categories.size(), 2u);  // Points and lines make no category.
  EXPECT_EQ(Category(d, 1).name, "bottle");
  EXPECT_EQ(Category(d, 2).name, "can");
  ASSERT_EQ(d.annotations.size(), 3u);
  const CocoAnnotation& polygon = d.annotations[0];
  EXPECT_EQ(ClassOf(d, polygon), "bottle");
  EXPECT_EQ(polygon.segmentation.polygons,
            (std::vector<std::vector<double>>{{10, 10, 30, 10, 30, 20, 10, 20}}));
  EXPECT_EQ(polygon.bbox, Box(10, 10, 20, 10));
  EXPECT_DOUBLE_EQ(polygon.area,
                   double(segtune::RleArea(segtune::RleFromPolygons(polygon.segmentation.polygons, 48, 64))));
  const CocoAnnotation& box = d.annotations[1];
  EXPECT_EQ(ClassOf(d, box), "can");
  EXPECT_EQ(box.bbox, Box(40, 5, 8, 12));
  EXPECT_DOUBLE_EQ(box.area, 96);
  const CocoAnnotation& masked = d.annotations[2];
  EXPECT_EQ(ClassOf(d, masked), "bottle");
  ASSERT_TRUE(masked.segmentation.rle.has_value());
  EXPECT_DOUBLE_EQ(masked.area, 100);
  EXPECT_EQ(masked.bbox, Box(5, 20, 10, 10));
  for (const auto& a : d.annotations) EXPECT_EQ(a.image_id.text, "ckl1label0001");

  EXPECT_EQ(report.annotations_per_class.at("bottle"), 2);
  EXPECT_EQ(report.skipped_objects.at("point (not a region)"), 1);
  EXPECT_EQ(report.skipped_objects.at("line (not a region)"), 1);
  EXPECT_EQ(report.skipped_objects.at("image classification"), 1);
  ASSERT_EQ(server.Hits("/masks/ckl1feat0005.png"), 1);
  EXPECT_EQ(server.Requests("/masks/ckl1feat0005.png")[0].Header("Authorization"), "Bearer test-key");
}

TEST(Labelbox, ConvertsNdjsonV2WithCompositeAndSingleMasks) {
  HttpServer server;
  TempDir dir;
  cv::Mat composite(40, 50, CV_8UC3, cv::Scalar(0, 0, 0));  // BGR.
  composite(cv::Rect(0, 0, 10, 5)).setTo(cv::Scalar(0, 0, 255));      // rgb(255, 0, 0): 50 px.
  composite(cv::Rect(20, 10, 10, 10)).setTo(cv::Scalar(255, 128, 0)); // rgb(0, 128, 255): 100 px.
  composite(cv::Rect(0, 30, 3, 3)).setTo(cv::Scalar(0, 0, 254));      // Close to red, not red.
  server.SetRoute("/api/v1/tasks/cltask01/masks/clcomp01/index/1", Png(composite));
  cv::Mat single(40, 50, CV_8UC1, cv::Scalar(0));
  single(cv::Rect(40, 30, 5, 5)).setTo(255);
  server.SetRoute("/api/v1/projects/clproj01/annotations/clfeat13/index/1/mask", Png(single));

  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("export_v2.ndjson", dir, &server), &server), &report);
  EXPECT_EQ(report.flavour, "export v2 NDJSON");
  EXPECT_EQ(report.rows, 3);
  EXPECT_EQ(report.skipped_rows, 1);  // performance_details.skipped.
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].id.text, "clrow0001");
  EXPECT_EQ(d.images[0].width, 80);  // media_attributes.
  EXPECT_EQ(d.images[0].height, 60);
  EXPECT_EQ(d.images[0].extra.value("external_id", ""), "img_0001.jpg");
  std::vector<std::string> names;
  for (const auto& c : d.categories) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"bottle", "can", "cap"}));  // Sorted: ids 1..3.

  ASSERT_EQ(d.annotations.size(), 5u);
  EXPECT_EQ(d.annotations[0].bbox, Box(5.5, 6, 19.5, 20));
  EXPECT_EQ(d.annotations[1].bbox, Box(40, 30, 20, 10));
  EXPECT_EQ(ClassOf(d, d.annotations[2]), "bottle");
  EXPECT_DOUBLE_EQ(d.annotations[2].area, 50);
  EXPECT_EQ(d.annotations[2].bbox, Box(0, 0, 10, 5));
  EXPECT_EQ(ClassOf(d, d.annotations[3]), "can");
  EXPECT_DOUBLE_EQ(d.annotations[3].area, 100);
  EXPECT_EQ(d.annotations[3].bbox, Box(20, 10, 10, 10));
  EXPECT_EQ(ClassOf(d, d.annotations[4]), "cap");
  EXPECT_EQ(d.annotations[4].category_id, 3);
  EXPECT_DOUBLE_EQ(d.annotations[4].area, 25);
  for (int i = 2; i < 5; ++i) {
    ASSERT_TRUE(d.annotations[i].segmentation.rle.has_value());
    EXPECT_EQ(d.annotations[i].segmentation.rle->h, 40u);
    EXPECT_EQ(d.annotations[i].segmentation.rle->w, 50u);
  }
  EXPECT_EQ(server.Hits("/api/v1/tasks/cltask01/masks/clcomp01/index/1"), 1);  // Shared by two objects.
  EXPECT_EQ(server.Requests("/api/v1/projects/clproj01/annotations/clfeat13/index/1/mask")[0].Header("authorization"),
            "Bearer test-key");
  EXPECT_EQ(report.skipped_objects.at("point (not a region)"), 1);
  EXPECT_EQ(report.skipped_objects.at("line (not a region)"), 1);
}

TEST(Labelbox, Converts2018XyFormatsWithoutFlippingInAutoMode) {
  TempDir dir;
  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("legacy_2018_xy.json", dir, nullptr)), &report);
  EXPECT_EQ(report.flavour, "2018 JSON (class -> XY/WKT)");
  EXPECT_EQ(report.skipped_rows, 1);
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].width, 0);  // Unknown until downloaded.
  ASSERT_EQ(d.annotations.size(), 2u);
  EXPECT_EQ(ClassOf(d, d.annotations[0]), "bottle");
  EXPECT_EQ(d.annotations[0].bbox, Box(10, 80, 20, 10));
  EXPECT_DOUBLE_EQ(d.annotations[0].area, 200);  // Shoelace: the size is unknown.
  EXPECT_EQ(ClassOf(d, d.annotations[1]), "can");
  EXPECT_EQ(d.annotations[1].bbox, Box(50, 50, 10, 20));
  EXPECT_FALSE(report.y_flipped);
}

TEST(Labelbox, WktMultipolygonKeepsExteriorsAndCountsDroppedHolesWhenSizeUnknown) {
  TempDir dir;
  LabelboxReport report;
  LabelboxOptions options = Options(Fixture("legacy_2018_wkt.json", dir, nullptr));
  options.y_origin = segtune::YOrigin::kTop;
  const CocoDataset d = segtune::LabelboxToCoco(options, &report);
  ASSERT_EQ(d.annotations.size(), 2u);
  const CocoAnnotation& bottle = d.annotations[0];
  EXPECT_EQ(bottle.segmentation.polygons,
            (std::vector<std::vector<double>>{{10, 10, 50, 10, 50, 50, 10, 50}, {60, 60, 70, 60, 70, 70, 60, 70}}));
  EXPECT_EQ(bottle.bbox, Box(10, 10, 60, 60));
  EXPECT_EQ(report.skipped_objects.at("polygon hole dropped (image size unknown)"), 1);
  EXPECT_EQ(d.annotations[1].bbox, Box(80, 5, 15, 20));
}

TEST(Labelbox, BottomOriginFlipsYUsingTheDownloadedImageHeightAndSubtractsHoles) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/images/w.png", Png(cv::Mat(100, 120, CV_8UC3, cv::Scalar(9, 9, 9))));
  LabelboxOptions options = Options(Fixture("legacy_2018_wkt.json", dir, &server), &server);
  options.y_origin = segtune::YOrigin::kBottom;
  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(options, &report);
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].height, 100);
  EXPECT_EQ(d.images[0].width, 120);
  ASSERT_EQ(d.annotations.size(), 2u);
  EXPECT_EQ(d.annotations[1].bbox, Box(80, 75, 15, 20));  // y' = 100 - y.
  const CocoAnnotation& bottle = d.annotations[0];
  ASSERT_TRUE(bottle.segmentation.rle.has_value());  // Holes need a mask.
  EXPECT_EQ(bottle.bbox, Box(10, 30, 60, 60));
  using segtune::RleArea;
  using segtune::RleFromPolygon;
  const double expected = double(RleArea(RleFromPolygon({10, 90, 50, 90, 50, 50, 10, 50}, 100, 120))) -
                          double(RleArea(RleFromPolygon({20, 80, 30, 80, 30, 70, 20, 70}, 100, 120))) +
                          double(RleArea(RleFromPolygon({60, 40, 70, 40, 70, 30, 60, 30}, 100, 120)));
  EXPECT_DOUBLE_EQ(bottle.area, expected);
  EXPECT_EQ(server.Hits("/images/w.png"), 1);
}

// Issue 18 item 7: a mask PNG declaring 30000x30000 pixels (a few KB) took 5.4 GB and set the image
// size to 30000x30000. Its header is now checked before decoding: the mask is skipped, with a
// warning naming the mask and --max-pixels, and the image size does not come from it.
TEST(Labelbox, MaskBombIsRejectedFromItsHeader) {
  HttpServer server;
  TempDir dir;
  std::string ihdr;
  for (uint32_t v : {30000u, 30000u}) {
    for (int i = 3; i >= 0; --i) ihdr.push_back(char(v >> (8 * i)));
  }
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB.
  auto chunk = [](const std::string& type, const std::string& data) {
    std::string out;
    for (int i = 3; i >= 0; --i) out.push_back(char(data.size() >> (8 * i)));
    const std::string body = type + data;
    out += body;
    const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()));
    for (int i = 3; i >= 0; --i) out.push_back(char(crc >> (8 * i)));
    return out;
  };
  HttpRoute route;
  route.body = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IEND", "");
  server.SetRoute("/masks/ckl1feat0005.png", route);
  LabelboxReport report;
  ::testing::internal::CaptureStderr();
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("v1_export.json", dir, &server)), &report);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_NE(d.images[0].width, 30000);
  EXPECT_EQ(report.skipped_objects.at("mask unreadable"), 1);
  EXPECT_NE(warnings.find("/masks/ckl1feat0005.png: PNG header declares 30000x30000 pixels"), std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("--max-pixels"), std::string::npos) << warnings;
}

TEST(Labelbox, MaskDownloadFailureIsCountedNotFatal) {
  HttpServer server;  // Serves no mask: 404.
  TempDir dir;
  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("v1_export.json", dir, &server), &server), &report);
  EXPECT_EQ(report.mask_failures, 1);
  EXPECT_EQ(report.skipped_objects.at("mask download failed"), 1);
  EXPECT_EQ(d.annotations.size(), 2u);
}

TEST(Labelbox, MalformedGeometryErrorNamesFileRowAndField) {
  TempDir dir;
  const fs::path input = dir / "bad.json";
  segtune::WriteFileAtomic(input, R"([{"ID": "a", "Labeled Data": "http://x/a.jpg",
    "Label": {"objects": [{"title": "bottle", "polygon": [{"x": 1, "y": 2}, {"x": 3}]}]}}])");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad.json: row 0: Label.objects[0]: polygon: point 1"), std::string::npos) << what;
  }
  segtune::WriteFileAtomic(input, "{\"data_row\": {\"id\": \"r\"}}\n{not json}\n");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(Labelbox, CliWritesCocoAndWarnsAboutAmbiguousYOrigin) {
  TempDir dir;
  const fs::path input = Fixture("legacy_2018_xy.json", dir, nullptr);
  const auto result = segtune::testing::RunSegtune("labelbox2coco '" + input.string() + "' -o '" +
                                                   (dir / "out.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("--y-origin bottom"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("class bottle: 1"), std::string::npos) << result.output;
  const CocoDataset d = segtune::LoadCoco(dir / "out.json");
  EXPECT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.annotations.size(), 2u);
  EXPECT_EQ(d.images[0].id.text, "cjlabel2018a");
}

TEST(Labelbox, WrongFieldTypesAreFormatErrorsNamingTheLine) {
  TempDir dir;
  const fs::path input = dir / "odd.ndjson";
  segtune::WriteFileAtomic(input, "{\"data_row\": {\"id\": \"r1\"}, \"projects\": {\"p\": {\"labels\": [\"oops\"]}}}\n");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("odd.ndjson: line 1"), std::string::npos) << e.what();
  }
}

// Issue 18 item 8: media_attributes.width 2^40 went through get<int>() (wrapped to 0: "size unknown").
TEST(Labelbox, OutOfRangeImageSizeAndMaskColorAreErrorsNamingTheField) {
  TempDir dir;
  const fs::path input = dir / "big.ndjson";
  segtune::WriteFileAtomic(input, "{\"data_row\": {\"id\": \"r1\"}, \"media_attributes\": {\"width\": 1099511627776, "
                                  "\"height\": 10}, \"projects\": {}}\n");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("big.ndjson: line 1: media_attributes.width: expected an integer from 0 to "
                                         "2147483647, found 1099511627776"),
              std::string::npos) << e.what();
  }
  segtune::WriteFileAtomic(
      input, "{\"data_row\": {\"id\": \"r1\"}, \"projects\": {\"p\": {\"labels\": [{\"annotations\": {\"objects\": "
             "[{\"name\": \"can\", \"annotation_kind\": \"ImageSegmentationMask\", \"composite_mask\": "
             "{\"url\": \"http://127.0.0.1:9/m\", \"color_rgb\": [256, 0, 0]}}]}}]}}}\n");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("composite_mask.color_rgb[0]: expected an integer from 0 to 255, found 256"),
              std::string::npos) << e.what();
  }
}

// Issue 18 item 3: nlohmann parses without recursion, but copying or printing a value recurses: the
// error message for a malformed color_rgb printed 100,000 nested lists.
TEST(Labelbox, DeepJsonNestingIsAnErrorNamingFileLineAndLimit) {
  TempDir dir;
  const fs::path input = dir / "deep.ndjson";
  std::string row = "{\"data_row\": {\"id\": \"r1\"}, \"projects\": {\"p\": {\"labels\": [{\"annotations\": "
                    "{\"objects\": [{\"name\": \"can\", \"annotation_kind\": \"ImageSegmentationMask\", "
                    "\"composite_mask\": {\"url\": \"http://127.0.0.1:9/m\", \"color_rgb\": ";
  row += std::string(100000, '[') + std::string(100000, ']') + "}}]}}]}}}\n";
  segtune::WriteFileAtomic(input, "\n" + row);
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("deep.ndjson: line 2: nesting deeper than 1024 levels"), std::string::npos)
        << e.what();
  }
}

namespace {

// A fixture with "{{SERVER}}" replaced by `base` (any scheme), written under dir.
fs::path FixtureAt(const std::string& name, const TempDir& dir, const std::string& base) {
  std::string text = segtune::ReadFile(segtune::testing::SourcePath("tests/data/fixtures/labelbox/" + name));
  for (size_t at; (at = text.find("{{SERVER}}")) != std::string::npos;) text.replace(at, 10, base);
  const fs::path out = dir / name;
  segtune::WriteFileAtomic(out, text);
  return out;
}

cv::Mat SquareMask() {
  cv::Mat mask(48, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  mask(cv::Rect(5, 20, 10, 10)).setTo(cv::Scalar(255, 255, 255));
  return mask;
}

std::vector<fs::path> Entries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path());
  return out;
}

// Points fs::temp_directory_path() (and so the mask scratch directory) at `dir` for one test.
class TmpDirOverride {
 public:
  explicit TmpDirOverride(const fs::path& dir) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old, had_ = true;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpDirOverride() { had_ ? (void)::setenv("TMPDIR", old_.c_str(), 1) : (void)::unsetenv("TMPDIR"); }

 private:
  std::string old_;
  bool had_ = false;
};

}  // namespace

// Issue 18 item 5: the API key went as a Bearer token to whatever host an export names.
TEST(Labelbox, ApiKeyIsNotSentToAHostTheExportNames) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/masks/ckl1feat0005.png", Png(SquareMask()));
  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("v1_export.json", dir, &server)), &report);  // Default hosts.
  EXPECT_EQ(d.annotations.size(), 3u);  // The mask (public here) still converts.
  ASSERT_EQ(server.Hits("/masks/ckl1feat0005.png"), 1);
  EXPECT_EQ(server.Requests("/masks/ckl1feat0005.png")[0].Header("Authorization"), "");
}

// Issue 18 item 5: a key host that redirects elsewhere does not hand the key on.
TEST(Labelbox, ApiKeyIsDroppedWhenAMaskRedirectsToAnotherHost) {
  HttpServer api, elsewhere;
  TempDir dir;
  api.SetRoute("/masks/ckl1feat0005.png", segtune::testing::Redirect(elsewhere.Url("/stored/mask.png")));
  elsewhere.SetRoute("/stored/mask.png", Png(SquareMask()));
  LabelboxReport report;
  const CocoDataset d = segtune::LabelboxToCoco(Options(Fixture("v1_export.json", dir, &api), &api), &report);
  EXPECT_EQ(d.annotations.size(), 3u);
  EXPECT_EQ(api.Requests("/masks/ckl1feat0005.png").at(0).Header("Authorization"), "Bearer test-key");
  EXPECT_EQ(elsewhere.Requests("/stored/mask.png").at(0).Header("Authorization"), "");
}

// Issue 18 item 5: file:// mask URLs read local files.
TEST(Labelbox, FileMaskUrlsAreNotRead) {
  TempDir dir;
  std::vector<uchar> png;
  cv::imencode(".png", SquareMask(), png);
  segtune::WriteFileAtomic(dir / "masks/ckl1feat0005.png", std::string(png.begin(), png.end()));
  LabelboxReport report;
  const CocoDataset d =
      segtune::LabelboxToCoco(Options(FixtureAt("v1_export.json", dir, "file://" + dir.path().string())), &report);
  EXPECT_EQ(report.mask_failures, 1);
  EXPECT_EQ(report.skipped_objects.at("mask download failed"), 1);
  EXPECT_EQ(d.annotations.size(), 2u);  // Polygon and box; not the mask.
}

// Issue 18 item 4: an endless mask filled the temp folder (24 GB in 90 s).
TEST(Labelbox, EndlessMaskStopsAtMaxBytesAndLeavesNoTempFiles) {
  HttpServer server;
  TempDir dir, tmp;
  segtune::testing::HttpRoute endless;
  endless.endless = true;
  server.SetRoute("/masks/ckl1feat0005.png", endless);
  LabelboxOptions options = Options(Fixture("v1_export.json", dir, &server), &server);
  options.download.max_bytes = 64 << 10;
  LabelboxReport report;
  {
    TmpDirOverride override_tmp(tmp.path());
    const CocoDataset d = segtune::LabelboxToCoco(options, &report);
    EXPECT_EQ(d.annotations.size(), 2u);
  }
  EXPECT_EQ(report.mask_failures, 1);
  EXPECT_EQ(Entries(tmp.path()), std::vector<fs::path>{});
}

namespace {

// Starts the segtune binary with TMPDIR=tmp and default SIGINT/SIGTERM handling; output to `log`.
pid_t SpawnSegtune(const std::vector<std::string>& args, const fs::path& tmp, const fs::path& log) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "TMPDIR=", 7) != 0) env.push_back(*e);
  env.push_back("TMPDIR=" + tmp.string());
  std::vector<std::string> argv_strings = {SEGTUNE_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return pid;
}

// Interrupts labelbox2coco while a mask download hangs half-way; returns the wait status.
int InterruptMaskDownload(int sig, const fs::path& tmp, std::string* log_text) {
  HttpServer server;
  TempDir dir;
  segtune::testing::HttpRoute hang = Png(SquareMask());
  hang.stall_after_bytes = 20;  // The transfer hangs half-way, its .part in the scratch directory.
  server.SetRoute("/masks/ckl1feat0005.png", hang);
  const fs::path input = Fixture("v1_export.json", dir, &server);
  const pid_t pid = SpawnSegtune({"labelbox2coco", input.string(), "-o", (dir / "out.json").string(), "--api-key", "k"},
                                 tmp, dir / "log.txt");
  if (pid < 0) return -1;
  // Wait until the mask transfer is under way: the server was asked and the .part exists (its bytes
  // may still sit in stdio's buffer). The binary may start slowly on a busy machine.
  for (int i = 0; i < 800; ++i) {
    bool part_exists = false;
    for (const auto& p : Entries(tmp)) part_exists |= p.extension() == ".part";
    if (part_exists && server.Hits("/masks/ckl1feat0005.png") > 0) break;
    ::usleep(25000);
  }
  EXPECT_EQ(Entries(tmp).size(), 2u) << "expected the scratch directory and the mask's .part";
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  *log_text = segtune::ReadFile(dir / "log.txt");
  EXPECT_FALSE(fs::exists(dir / "out.json"));
  return status;
}

}  // namespace

// Issue 18 item 4: the mask temp folder stayed after SIGINT/SIGTERM.
TEST(Labelbox, SigtermAndSigintRemoveTheMaskTempFolder) {
  for (int sig : {SIGTERM, SIGINT}) {
    TempDir tmp;
    std::string log;
    const int status = InterruptMaskDownload(sig, tmp.path(), &log);
    // Exit code 128 + signal, as a shell reports a process a signal ended (core/interrupt_cleanup.h).
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + sig) << "status " << status << "\n" << log;
    EXPECT_EQ(Entries(tmp.path()), std::vector<fs::path>{}) << "signal " << sig;
  }
}

// issue 18 item 11: a JSON object instead of an array converted to an empty COCO file with exit 0.
TEST(Labelbox, JsonObjectInsteadOfAnArrayIsAnErrorNamingFileAndLine) {
  TempDir dir;
  const fs::path input = dir / "object.json";
  segtune::WriteFileAtomic(input, R"({"ID": "a", "Labeled Data": "http://x/a.jpg", "Label": {"objects": []}})");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("object.json: line 1: a JSON object without \"data_row\" is not a Labelbox "
                                         "export; expected a JSON array of rows"),
              std::string::npos)
        << e.what();
  }
  segtune::WriteFileAtomic(input, R"({"rows": []})");
  const auto cli = segtune::testing::RunSegtune("labelbox2coco '" + input.string() + "' -o '" +
                                                (dir / "out.json").string() + "'");
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  EXPECT_NE(cli.output.find("object.json: line 1"), std::string::npos) << cli.output;
  EXPECT_FALSE(fs::exists(dir / "out.json"));
  segtune::WriteFileAtomic(input, "42\n");
  EXPECT_THROW(segtune::LabelboxToCoco(Options(input), nullptr), segtune::FormatError);
}

// A number JSON cannot hold as a double (1e400) is nlohmann's out_of_range, not a parse_error: it used
// to escape as a raw "[json.exception.out_of_range.406] number overflow ..." without the file or line.
// Found by fuzz_labelbox (tests/fuzz/corpus/labelbox/regression-number-overflow).
TEST(Labelbox, NumberOverflowIsFormatErrorNamingFileAndLine) {
  TempDir dir;
  const fs::path input = dir / "over.ndjson";
  segtune::WriteFileAtomic(input, "{\"data_row\": {\"id\": \"r1\"}}\n{\"data_row\": {\"id\": \"r2\"}, \"x\": 1e400}\n");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("over.ndjson: line 2: not valid JSON"), std::string::npos) << what;
    EXPECT_NE(what.find("number overflow"), std::string::npos) << what;
  }
  segtune::WriteFileAtomic(input, "[{\"ID\": \"a\", \"Label\": {}, \"w\": -1e999}]");
  try {
    segtune::LabelboxToCoco(Options(input), nullptr);
    FAIL() << "expected FormatError";
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("over.ndjson: not valid JSON"), std::string::npos) << e.what();
  }
}
