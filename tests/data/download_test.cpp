#include "segtune/data/download.h"

#include <gtest/gtest.h>

#include <chrono>

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

TEST(DownloadAll, CopiesFileUrls) {
  TempDir dir;
  segtune::WriteFileAtomic(dir / "src.bin", "local bytes");
  const auto results =
      DownloadAll({{"file://" + (dir / "src.bin").string(), dir / "out/dst.bin"},
                   {"file://" + (dir / "nope.bin").string(), dir / "out/nope.bin"}},
                  FastOptions());
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(segtune::ReadFile(dir / "out/dst.bin"), "local bytes");
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].attempts, 1);
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

TEST(IsUrl, AcceptsHttpHttpsAndFileSchemesOnly) {
  EXPECT_TRUE(segtune::IsUrl("http://x/y.jpg"));
  EXPECT_TRUE(segtune::IsUrl("HTTPS://x/y.jpg"));
  EXPECT_TRUE(segtune::IsUrl("file:///tmp/y.jpg"));
  EXPECT_FALSE(segtune::IsUrl("images/y.jpg"));
  EXPECT_FALSE(segtune::IsUrl("ftp://x/y"));
  EXPECT_FALSE(segtune::IsUrl(""));
}
