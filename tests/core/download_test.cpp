#include "segtune/core/download.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <opencv2/imgcodecs.hpp>

#include "segtune/formats/coco.h"
#include "segtune/data/download_images.h"

#include "http_server.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;
using segtune::DownloadAll;
using segtune::DownloadOptions;
using segtune::DownloadRequest;
using segtune::testing::HttpRoute;
using segtune::testing::HttpServer;
using segtune::testing::TempDir;

namespace {

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char(seed + i * 7 % 251);
  return s;
}

HttpRoute Serving(std::string body) {
  HttpRoute r;
  r.body = std::move(body);
  return r;
}

DownloadOptions FastOptions() {
  DownloadOptions o;
  o.parallel = 4;
  o.retries = 2;
  o.backoff_seconds = 0.05;
  o.stall_seconds = 1;
  o.connect_timeout_seconds = 5;
  return o;
}

}  // namespace

TEST(DownloadAll, FetchesEveryUrlInParallelWithHeaders) {
  HttpServer server;
  TempDir dir;
  std::vector<DownloadRequest> requests;
  for (int i = 0; i < 6; ++i) {
    const std::string path = "/img" + std::to_string(i) + ".bin";
    HttpRoute route = Serving(Bytes(1000 + i, char('a' + i)));
    route.delay_seconds = 0.3;  // Serially this would take 1.8 s.
    server.SetRoute(path, route);
    requests.push_back({server.Url(path), dir / ("sub/img" + std::to_string(i) + ".bin")});
  }
  DownloadOptions options = FastOptions();
  options.parallel = 6;
  options.headers = {"Authorization: Bearer secret"};
  const auto start = std::chrono::steady_clock::now();
  const auto results = DownloadAll(requests, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(results.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(results[i].ok) << results[i].error;
    EXPECT_EQ(results[i].url, requests[i].url);  // Results are in request order.
    EXPECT_EQ(segtune::ReadFile(requests[i].destination), Bytes(1000 + i, char('a' + i)));
    EXPECT_FALSE(fs::exists(fs::path(requests[i].destination.string() + ".part")));
    const std::string path = "/img" + std::to_string(i) + ".bin";
    EXPECT_EQ(server.Requests(path).at(0).Header("Authorization"), "Bearer secret");
  }
  EXPECT_LT(seconds, 1.2);
}

TEST(DownloadAll, ReportsNotFoundWithoutRetryingAndCompletesTheRest) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/good.bin", Serving("good"));
  const auto results = DownloadAll(
      {{server.Url("/missing.bin"), dir / "missing.bin"}, {server.Url("/good.bin"), dir / "good.bin"}},
      FastOptions());
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].http_status, 404);
  EXPECT_EQ(results[0].attempts, 1);
  EXPECT_NE(results[0].error.find("404"), std::string::npos) << results[0].error;
  EXPECT_EQ(server.Hits("/missing.bin"), 1);
  EXPECT_FALSE(fs::exists(dir / "missing.bin"));
  EXPECT_FALSE(fs::exists(dir / "missing.bin.part"));
  EXPECT_TRUE(results[1].ok);
  EXPECT_EQ(segtune::ReadFile(dir / "good.bin"), "good");
}

TEST(DownloadAll, RetriesServerErrorsAndTooManyRequests) {
  HttpServer server;
  TempDir dir;
  HttpRoute flaky = Serving("finally");
  flaky.fail_first_n = 2;
  flaky.fail_status = 503;
  server.SetRoute("/flaky", flaky);
  HttpRoute busy = Serving("busy");
  busy.fail_first_n = 1;
  busy.fail_status = 429;
  server.SetRoute("/busy", busy);
  const auto results =
      DownloadAll({{server.Url("/flaky"), dir / "flaky"}, {server.Url("/busy"), dir / "busy"}}, FastOptions());
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(results[0].attempts, 3);
  EXPECT_EQ(segtune::ReadFile(dir / "flaky"), "finally");
  EXPECT_TRUE(results[1].ok) << results[1].error;
  EXPECT_EQ(results[1].attempts, 2);
}

TEST(DownloadAll, GivesUpAfterTheConfiguredRetries) {
  HttpServer server;
  TempDir dir;
  HttpRoute broken = Serving("never");
  broken.fail_first_n = 100;
  server.SetRoute("/broken", broken);
  DownloadOptions options = FastOptions();
  options.retries = 1;
  const auto results = DownloadAll({{server.Url("/broken"), dir / "broken"}}, options);
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].attempts, 2);
  EXPECT_EQ(results[0].http_status, 503);
  EXPECT_EQ(server.Hits("/broken"), 2);
}

TEST(DownloadAll, DetectsAStallKeepsThePartAndResumesWithRange) {
  HttpServer server;
  TempDir dir;
  const std::string body = Bytes(50000, 'x');
  HttpRoute stalling = Serving(body);
  stalling.stall_after_bytes = 20000;  // Every request hangs at this offset.
  server.SetRoute("/big.bin", stalling);
  DownloadOptions options = FastOptions();
  options.retries = 0;
  auto results = DownloadAll({{server.Url("/big.bin"), dir / "big.bin"}}, options);
  ASSERT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find("stalled"), std::string::npos) << results[0].error;
  EXPECT_FALSE(fs::exists(dir / "big.bin"));
  EXPECT_EQ(fs::file_size(dir / "big.bin.part"), 20000u);

  server.SetRoute("/big.bin", Serving(body));  // The server recovers.
  results = DownloadAll({{server.Url("/big.bin"), dir / "big.bin"}}, options);
  ASSERT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(segtune::ReadFile(dir / "big.bin"), body);
  const auto requests = server.Requests("/big.bin");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].Header("Range"), "bytes=20000-");
}

TEST(DownloadAll, RetriesAStallWithinOneRunByResuming) {
  HttpServer server;
  TempDir dir;
  const std::string body = Bytes(30000, 'q');
  HttpRoute stalling = Serving(body);
  stalling.stall_after_bytes = 10000;
  stalling.stall_first_n = 1;
  server.SetRoute("/s.bin", stalling);
  const auto results = DownloadAll({{server.Url("/s.bin"), dir / "s.bin"}}, FastOptions());
  ASSERT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(results[0].attempts, 2);
  EXPECT_EQ(segtune::ReadFile(dir / "s.bin"), body);
  EXPECT_EQ(server.Requests("/s.bin").at(1).Header("Range"), "bytes=10000-");
}

TEST(DownloadAll, StartsOverWhenTheServerIgnoresRange) {
  HttpServer server;
  TempDir dir;
  HttpRoute no_ranges = Serving("the whole file");
  no_ranges.ranges = false;
  server.SetRoute("/f", no_ranges);
  segtune::WriteFileAtomic(dir / "f.part", "garbage!");
  const auto results = DownloadAll({{server.Url("/f"), dir / "f"}}, FastOptions());
  ASSERT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(segtune::ReadFile(dir / "f"), "the whole file");
}

TEST(DownloadAll, StartsOverWhenThePartIsAlreadyComplete) {
  HttpServer server;  // A crash between the last byte and the rename leaves a whole .part: 416.
  TempDir dir;
  server.SetRoute("/whole", Serving("12345"));
  segtune::WriteFileAtomic(dir / "whole.part", "12345");
  const auto results = DownloadAll({{server.Url("/whole"), dir / "whole"}}, FastOptions());
  ASSERT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(segtune::ReadFile(dir / "whole"), "12345");
  EXPECT_EQ(server.Hits("/whole"), 2);
  EXPECT_EQ(server.Requests("/whole")[0].Header("Range"), "bytes=5-");
  EXPECT_EQ(server.Requests("/whole")[1].Header("Range"), "");
}

TEST(DownloadAll, SkipsCompletedFilesOnRerun) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/a", Serving("A"));
  server.SetRoute("/b", Serving("B"));
  const std::vector<DownloadRequest> requests = {{server.Url("/a"), dir / "a"}, {server.Url("/b"), dir / "b"}};
  auto first = DownloadAll(requests, FastOptions());
  ASSERT_TRUE(first[0].ok && first[1].ok);
  auto second = DownloadAll(requests, FastOptions());
  EXPECT_TRUE(second[0].ok && second[0].skipped);
  EXPECT_TRUE(second[1].ok && second[1].skipped);
  EXPECT_EQ(server.Hits("/a"), 1);
  EXPECT_EQ(server.Hits("/b"), 1);
}

// Issue 18 item 5: file:// URLs copied any local file (an image, or ~/.ssh/id_rsa) into the dataset.
TEST(DownloadAll, RefusesFileAndOtherSchemesWithoutReadingAnything) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "secret.txt", "local bytes");
  const auto results = DownloadAll({{"file://" + (dir / "secret.txt").string(), dir / "out/a.png"},
                                    {"FILE://" + (dir / "secret.txt").string(), dir / "out/b.png"},
                                    {"ftp://127.0.0.1:9/x.png", dir / "out/c.png"}},
                                   FastOptions());
  ASSERT_EQ(results.size(), 3u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].error, "only http:// and https:// URLs are downloaded, not file://");
  EXPECT_FALSE(results[1].ok);
  EXPECT_FALSE(results[2].ok);
  EXPECT_EQ(results[2].error, "only http:// and https:// URLs are downloaded, not ftp://");
  for (const auto& r : results) EXPECT_EQ(r.attempts, 0) << r.error;  // No connection, no retry.
  EXPECT_FALSE(fs::exists(dir / "out"));  // Not even a .part file.
}

TEST(FetchUrl, RefusesFileUrlsNamingTheUrl) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "secret.txt", "local bytes");
  const std::string url = "file://" + (dir / "secret.txt").string();
  try {
    segtune::FetchUrl(url, FastOptions());
    FAIL() << "expected IoError";
  } catch (const segtune::IoError& e) {
    EXPECT_EQ(std::string(e.what()), url + ": only http:// and https:// URLs are downloaded, not file://");
  }
}

// `download --allow-file-urls DIR` (segtune synth's exports name their images by file:// URL).
TEST(DownloadAll, CopiesFileUrlsOnlyInsideTheAllowedDirectories) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "export/images/a b.png", "local bytes");
  segtune::WriteFileAtomic(dir / "private/key", "secret");
  fs::create_symlink(dir / "private/key", dir / "export/images/link.png");
  DownloadOptions options = FastOptions();
  options.file_url_roots = {dir / "export"};
  const std::string base = "file://" + dir.path().string();
  const auto results = DownloadAll({{base + "/export/images/a%20b.png", dir / "out/a.png"},
                                    {base + "/private/key", dir / "out/key"},
                                    {base + "/export/../private/key", dir / "out/key2"},
                                    {base + "/export/images/link.png", dir / "out/link.png"}},
                                   options);
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(segtune::ReadFile(dir / "out/a.png"), "local bytes");
  for (int i = 1; i < 4; ++i) {
    EXPECT_FALSE(results[i].ok) << i;
    EXPECT_NE(results[i].error.find("outside the directories --allow-file-urls names"), std::string::npos)
        << results[i].error;
  }
  EXPECT_FALSE(fs::exists(dir / "out/key"));
  EXPECT_FALSE(fs::exists(dir / "out/key2"));
  EXPECT_FALSE(fs::exists(dir / "out/link.png"));
}

TEST(FetchUrl, ReturnsTheBodyAndSendsHeaders) {
  HttpServer server;
  server.SetRoute("/mask.png", Serving("png bytes"));
  DownloadOptions options = FastOptions();
  options.headers = {"Authorization: Bearer k"};
  EXPECT_EQ(segtune::FetchUrl(server.Url("/mask.png?token=1"), options), "png bytes");
  EXPECT_EQ(server.Requests("/mask.png").at(0).Header("authorization"), "Bearer k");
}

TEST(FetchUrl, ThrowsIoErrorNamingTheUrlAndStatus) {
  HttpServer server;
  const std::string url = server.Url("/gone.png");
  try {
    segtune::FetchUrl(url, FastOptions());
    FAIL() << "expected IoError";
  } catch (const segtune::IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(url), std::string::npos) << what;
    EXPECT_NE(what.find("404"), std::string::npos) << what;
  }
  EXPECT_EQ(server.Hits("/gone.png"), 1);
}

namespace {

std::string PngBytes(int w, int h) {
  std::vector<uchar> bytes;
  cv::imencode(".png", cv::Mat(h, w, CV_8UC3, cv::Scalar(10, 20, 30)), bytes);
  return std::string(bytes.begin(), bytes.end());
}

segtune::CocoImage UrlImage(const std::string& id, const std::string& file_name, const std::string& coco_url) {
  segtune::CocoImage image;
  image.id = {id, false};
  image.file_name = file_name;
  image.coco_url = coco_url;
  return image;
}

}  // namespace

TEST(DownloadImages, FetchesUrlsReportsFailuresAndResumesOnRerun) {
  HttpServer server;
  TempDir dir;
  const std::string stalled_png = PngBytes(64, 64);
  server.SetRoute("/img/a.png", Serving(PngBytes(30, 20)));
  server.SetRoute("/other/b.png", Serving(PngBytes(12, 8)));
  HttpRoute stalling = Serving(stalled_png);
  stalling.stall_after_bytes = long(stalled_png.size() / 2);
  server.SetRoute("/img/slow.png", stalling);
  segtune::CocoDataset d;
  d.categories.push_back({1, "bottle", "", {}});
  d.images = {UrlImage("a", server.Url("/img/a.png?sig=1"), ""),
              UrlImage("b", "b_local.png", server.Url("/other/b.png")),  // COCO layout: name + coco_url.
              UrlImage("gone", server.Url("/img/gone.png"), ""),
              UrlImage("slow", server.Url("/img/slow.png"), ""),
              UrlImage("local", "already/here.jpg", "")};
  d.images[4].width = 5, d.images[4].height = 5;
  for (int i = 0; i < 5; ++i) {
    segtune::CocoAnnotation a;
    a.id = i + 1;
    a.image_id = d.images[i].id;
    a.category_id = 1;
    a.bbox = {0, 0, 1, 1};
    d.annotations.push_back(a);
  }
  segtune::SaveCoco(d, dir / "in.json");

  segtune::DownloadImagesOptions options;
  options.input = dir / "in.json";
  options.images_dir = dir / "out/images";
  options.output = dir / "out/local.json";
  options.download = FastOptions();
  options.download.retries = 0;
  auto summary = segtune::DownloadImages(options);
  EXPECT_EQ(summary.images, 5);
  EXPECT_EQ(summary.downloaded, 2);
  EXPECT_EQ(summary.local, 1);
  EXPECT_EQ(summary.failed, 2);
  EXPECT_EQ(summary.annotations_dropped, 2);
  segtune::CocoDataset out = segtune::LoadCoco(options.output);
  ASSERT_EQ(out.images.size(), 3u);
  EXPECT_EQ(out.images[0].file_name, "images/a.png");  // Relative to the output JSON's directory.
  EXPECT_EQ(out.images[0].coco_url, server.Url("/img/a.png?sig=1"));
  EXPECT_EQ(out.images[0].width, 30);  // Read from the downloaded file.
  EXPECT_EQ(out.images[0].height, 20);
  EXPECT_EQ(out.images[1].file_name, "images/b_local.png");
  EXPECT_EQ(out.images[2].file_name, "already/here.jpg");  // No URL: unchanged.
  EXPECT_EQ(out.annotations.size(), 3u);
  const auto report = nlohmann::json::parse(segtune::ReadFile(summary.failures_path));
  ASSERT_EQ(report.size(), 2u);
  EXPECT_EQ(report[0]["url"], server.Url("/img/gone.png"));
  EXPECT_EQ(report[0]["status"], 404);
  EXPECT_NE(report[1]["error"].get<std::string>().find("stalled"), std::string::npos) << report.dump();

  // The server recovers; a rerun fetches only what is missing, resuming the stalled file. It replaces
  // local.json and its report, so it needs overwrite: without, it is refused before any request.
  server.SetRoute("/img/gone.png", Serving(PngBytes(7, 7)));
  server.SetRoute("/img/slow.png", Serving(stalled_png));
  EXPECT_THROW(segtune::DownloadImages(options), segtune::UsageError);
  EXPECT_EQ(server.Hits("/img/gone.png"), 1);
  options.overwrite = true;
  summary = segtune::DownloadImages(options);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.downloaded, 2);
  EXPECT_EQ(summary.already_present, 2);
  EXPECT_EQ(server.Hits("/img/a.png"), 1);
  EXPECT_EQ(server.Hits("/other/b.png"), 1);
  EXPECT_EQ(server.Requests("/img/slow.png").back().Header("Range"),
            "bytes=" + std::to_string(stalled_png.size() / 2) + "-");
  EXPECT_EQ(segtune::ReadFile(dir / "out/images/slow.png"), stalled_png);
  EXPECT_FALSE(fs::exists(summary.failures_path));  // The stale report is gone.
  out = segtune::LoadCoco(options.output);
  EXPECT_EQ(out.images.size(), 5u);
  EXPECT_EQ(out.annotations.size(), 5u);
}

// Issue 18 item 7: an image whose COCO entry gives its size was never looked at, so a PNG declaring
// 20000x20000 (or any image of another size than the COCO says) passed download with exit 0 and
// failed only later. Every file's header is now checked: over --max-pixels it is removed and named,
// a size that contradicts the COCO entry fails the image and keeps the file.
TEST(DownloadImages, ChecksEveryHeaderAgainstTheLimitAndTheCocoSize) {
  HttpServer server;
  TempDir dir;
  // A PNG signature and an IHDR (valid CRC) declaring 20000x20000 8-bit gray pixels, then IEND.
  std::string bomb("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x4e\x20\0\0\x4e\x20\x08\0\0\0\0", 29);
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(bomb.data() + 12), 17);
  for (int i = 3; i >= 0; --i) bomb.push_back(char(crc >> (8 * i)));
  bomb += std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  server.SetRoute("/bomb.png", Serving(bomb));
  server.SetRoute("/wide.png", Serving(PngBytes(16, 12)));
  server.SetRoute("/right.png", Serving(PngBytes(8, 6)));
  segtune::CocoDataset d;
  d.images = {UrlImage("bomb", server.Url("/bomb.png"), ""), UrlImage("wide", server.Url("/wide.png"), ""),
              UrlImage("right", server.Url("/right.png"), "")};
  for (auto& image : d.images) image.width = 8, image.height = 6;
  segtune::SaveCoco(d, dir / "in.json");
  segtune::DownloadImagesOptions options;
  options.input = dir / "in.json";
  options.images_dir = dir / "images";
  options.output = dir / "local.json";
  options.download = FastOptions();
  const auto summary = segtune::DownloadImages(options);
  EXPECT_EQ(summary.failed, 2);
  const auto report = nlohmann::json::parse(segtune::ReadFile(summary.failures_path));
  ASSERT_EQ(report.size(), 2u);
  const std::string bomb_error = report[0]["error"];
  EXPECT_NE(bomb_error.find("bomb.png: header: PNG header declares 20000x20000 pixels, above the limit"),
            std::string::npos) << bomb_error;
  EXPECT_NE(bomb_error.find("--max-pixels"), std::string::npos) << bomb_error;
  EXPECT_FALSE(fs::exists(dir / "images/bomb.png"));
  const std::string wide_error = report[1]["error"];
  EXPECT_NE(wide_error.find("the COCO file says 8x6 but " + (dir / "images/wide.png").string() + " is 16x12"),
            std::string::npos) << wide_error;
  EXPECT_TRUE(fs::exists(dir / "images/wide.png"));
  const auto out = segtune::LoadCoco(options.output);
  ASSERT_EQ(out.images.size(), 1u);
  EXPECT_EQ(out.images[0].id.text, "right");
}

TEST(DownloadImages, CliExitsOneAndNamesTheFailureReport) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/x/a.png", Serving(PngBytes(4, 4)));
  segtune::CocoDataset d;
  d.images = {UrlImage("1", server.Url("/x/a.png"), ""), UrlImage("2", server.Url("/x/missing.png"), "")};
  segtune::SaveCoco(d, dir / "in.json");
  const auto result = segtune::testing::RunSegtune("download '" + (dir / "in.json").string() + "' --images-dir '" +
                                                   (dir / "imgs").string() + "' -o '" + (dir / "local.json").string() +
                                                   "' --retries 0 --header 'X-Test: yes'");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("local.json.failures.json"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("missing.png"), std::string::npos) << result.output;
  EXPECT_EQ(server.Requests("/x/a.png").at(0).Header("X-Test"), "yes");
  EXPECT_EQ(segtune::LoadCoco(dir / "local.json").images.size(), 1u);
}

TEST(FileNameForUrl, UsesTheDecodedLastPathSegment) {
  EXPECT_EQ(segtune::FileNameForUrl("https://storage.labelbox.com/ckorg%2Fbottle_001.jpg?Expires=1&Sig=x"),
            "ckorg_bottle_001.jpg");
  EXPECT_EQ(segtune::FileNameForUrl("http://images.cocodataset.org/val2017/000000397133.jpg"), "000000397133.jpg");
  EXPECT_EQ(segtune::FileNameForUrl("https://host/dir/"), "dir");
  EXPECT_EQ(segtune::FileNameForUrl("https://host"), "image");
  EXPECT_EQ(segtune::FileNameForUrl("https://host/..%2F..%2Fetc"), "_.._etc");
}
