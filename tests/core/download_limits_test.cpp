// Issue 18 items 4 and 5: downloads are bounded in size and time, stay on http/https, and send
// credentials only to the hosts they belong to.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>

#include "http_server.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/coco.h"
#include "segtune/core/download.h"
#include "test_util.h"

namespace fs = std::filesystem;
using segtune::DownloadAll;
using segtune::DownloadOptions;
using segtune::DownloadResult;
using segtune::testing::HttpRoute;
using segtune::testing::HttpServer;
using segtune::testing::Redirect;
using segtune::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

DownloadOptions FastOptions() {
  DownloadOptions o;
  o.retries = 2;
  o.backoff_seconds = 0.05;
  o.stall_seconds = 2;
  o.connect_timeout_seconds = 5;
  o.timeout_seconds = 10;
  return o;
}

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

HttpRoute Endless() {
  HttpRoute r;
  r.endless = true;
  return r;
}

HttpRoute Serving(std::string body) {
  HttpRoute r;
  r.body = std::move(body);
  return r;
}

DownloadResult DownloadOne(const std::string& url, const fs::path& destination, const DownloadOptions& options) {
  return DownloadAll({{url, destination}}, options).at(0);
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);  // 31: gzip wrapper.
  std::string out(deflateBound(&z, uLong(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

// Item 4: an endless body filled the disk (9.2 GB .part in 20 s); the stall timeout never fired.
TEST(DownloadLimits, EndlessBodyStopsAtMaxBytesRemovesThePartAndIsNotRetried) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/endless.png", Endless());
  DownloadOptions options = FastOptions();
  options.max_bytes = 256 << 10;
  const auto start = Clock::now();
  const DownloadResult r = DownloadOne(server.Url("/endless.png"), dir / "a.png", options);
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "too large: more than the limit of 262,144 bytes (256 KiB) received and still sending; raise --max-bytes "
            "to download it");
  EXPECT_EQ(r.attempts, 1);  // The same server would send the same endless body again.
  EXPECT_EQ(server.Hits("/endless.png"), 1);
  EXPECT_FALSE(fs::exists(dir / "a.png"));
  EXPECT_FALSE(fs::exists(dir / "a.png.part"));
}

// Item 4: "Content-Length: 10^12" is refused from the header, before any body byte is stored.
TEST(DownloadLimits, ContentLengthOverTheLimitIsRefusedBeforeTheBody) {
  HttpServer server;
  TempDir dir;
  HttpRoute liar = Endless();
  liar.claimed_length = 1000000000000LL;
  server.SetRoute("/huge.png", liar);
  const DownloadResult r = DownloadOne(server.Url("/huge.png"), dir / "h.png", FastOptions());  // Default limit.
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "too large: the server announces 1,000,000,000,000 bytes, more than the limit of 268,435,456 bytes "
            "(256 MiB) set by --max-bytes; raise --max-bytes to download it");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(fs::exists(dir / "h.png"));
  EXPECT_FALSE(fs::exists(dir / "h.png.part"));
}

TEST(DownloadLimits, AFileOfExactlyMaxBytesIsKeptOneMoreIsNot) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/a.bin", Serving(std::string(1000, 'a')));
  HttpRoute no_length = Serving(std::string(1001, 'b'));
  no_length.send_content_length = false;  // Only the write-callback check can see the size.
  server.SetRoute("/b.bin", no_length);
  DownloadOptions options = FastOptions();
  options.max_bytes = 1000;
  const auto results = DownloadAll({{server.Url("/a.bin"), dir / "a.bin"}, {server.Url("/b.bin"), dir / "b.bin"}}, options);
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(fs::file_size(dir / "a.bin"), 1000u);
  EXPECT_FALSE(results[1].ok);
  EXPECT_TRUE(Contains(results[1].error, "1,000 bytes")) << results[1].error;
  EXPECT_FALSE(fs::exists(dir / "b.bin.part"));
}

// The limit counts decompressed bytes: a 1 MB gzip body of zeros expands to 64 MB.
TEST(DownloadLimits, CompressedBodyIsCountedAfterDecompression) {
  HttpServer server;
  TempDir dir;
  HttpRoute bomb = Serving(Gzip(std::string(64 << 20, '\0')));
  ASSERT_LT(bomb.body.size(), 200000u);
  bomb.headers = {{"Content-Encoding", "gzip"}};
  server.SetRoute("/bomb.png", bomb);
  DownloadOptions options = FastOptions();
  options.max_bytes = 1 << 20;
  const DownloadResult r = DownloadOne(server.Url("/bomb.png"), dir / "b.png", options);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.error, "more than the limit of 1,048,576 bytes (1 MiB)")) << r.error;
  EXPECT_FALSE(fs::exists(dir / "b.png.part"));
}

// A .part from an earlier run counts: resuming cannot grow a file past the limit.
TEST(DownloadLimits, AResumedPartCountsTowardTheLimit) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/r.bin", Serving(std::string(1000, 'r')));
  segtune::WriteFileAtomic(dir / "r.bin.part", std::string(600, 'r'));
  DownloadOptions options = FastOptions();
  options.max_bytes = 800;
  const DownloadResult r = DownloadOne(server.Url("/r.bin"), dir / "r.bin", options);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.error, "--max-bytes")) << r.error;
  EXPECT_EQ(server.Requests("/r.bin").at(0).Header("Range"), "bytes=600-");
  EXPECT_FALSE(fs::exists(dir / "r.bin.part"));
}

// Item 4: a slow but steady stream never stalls; --timeout bounds the whole transfer.
TEST(DownloadLimits, TimeoutStopsASlowSteadyStream) {
  HttpServer server;
  TempDir dir;
  HttpRoute drip = Endless();
  drip.body = std::string(100, 'd');
  drip.endless_interval_seconds = 0.05;
  server.SetRoute("/drip.png", drip);
  DownloadOptions options = FastOptions();
  options.timeout_seconds = 1;
  const auto start = Clock::now();
  const DownloadResult r = DownloadOne(server.Url("/drip.png"), dir / "d.png", options);
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "timed out: not finished after 1 s, the limit set by --timeout; raise --timeout for a slow server or a "
            "large file");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(fs::exists(dir / "d.png"));
}

TEST(FetchUrl, EndlessBodyIsAnIoErrorNamingTheUrlWithoutItsTokenTheLimitAndTheOption) {
  HttpServer server;
  server.SetRoute("/mask.png", Endless());
  DownloadOptions options = FastOptions();
  options.max_bytes = 100000;
  try {
    segtune::FetchUrl(server.Url("/mask.png?token=s3cret"), options);
    FAIL() << "expected IoError";
  } catch (const segtune::IoError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what, server.Url("/mask.png?token=***") +
                        ": download failed after 1 attempt(s): too large: more than the limit of 100,000 bytes "
                        "(97.7 KiB) received and still sending; raise --max-bytes to download it");
  }
  EXPECT_EQ(server.Hits("/mask.png"), 1);
}

TEST(FetchUrl, TimeoutIsAnIoErrorNamingTheOption) {
  HttpServer server;
  HttpRoute drip = Endless();
  drip.body = "d";
  drip.endless_interval_seconds = 0.05;
  server.SetRoute("/slow.png", drip);
  DownloadOptions options = FastOptions();
  options.timeout_seconds = 0.5;
  try {
    segtune::FetchUrl(server.Url("/slow.png"), options);
    FAIL() << "expected IoError";
  } catch (const segtune::IoError& e) {
    EXPECT_TRUE(Contains(e.what(), "not finished after 0.5 s, the limit set by --timeout")) << e.what();
  }
}

// Item 5: a redirect could switch to file:// and copy a local file.
TEST(DownloadLimits, RedirectToFileUrlIsRefused) {
  HttpServer server;
  TempDir dir;
  segtune::WriteFileAtomic(dir / "secret.txt", "local secret");
  server.SetRoute("/r.png", Redirect("file://" + (dir / "secret.txt").string()));
  const DownloadResult r = DownloadOne(server.Url("/r.png"), dir / "out.png", FastOptions());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "redirected to file://" + (dir / "secret.txt").string() +
                         ": only http:// and https:// URLs are followed");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(fs::exists(dir / "out.png"));
  try {
    segtune::FetchUrl(server.Url("/r.png"), FastOptions());
    FAIL() << "expected IoError";
  } catch (const segtune::IoError& e) {
    EXPECT_TRUE(Contains(e.what(), "only http:// and https:// URLs are followed")) << e.what();
    EXPECT_FALSE(Contains(e.what(), "local secret"));
  }
}

// Item 5: a credential goes to its own host only, not to another host (here: port) a file names.
TEST(DownloadLimits, CredentialHeadersGoOnlyToTheirHost) {
  HttpServer own, other;
  TempDir dir;
  own.SetRoute("/a.png", Serving("a"));
  other.SetRoute("/b.png", Serving("b"));
  DownloadOptions options = FastOptions();
  options.headers = {"X-Trace: 1"};
  options.credential_headers = {"Authorization: Bearer k"};
  options.credential_hosts = {own.Url("")};
  const auto results =
      DownloadAll({{own.Url("/a.png"), dir / "a.png"}, {other.Url("/b.png"), dir / "b.png"}}, options);
  EXPECT_TRUE(results[0].ok && results[1].ok);
  EXPECT_EQ(own.Requests("/a.png").at(0).Header("Authorization"), "Bearer k");
  EXPECT_EQ(other.Requests("/b.png").at(0).Header("Authorization"), "");
  EXPECT_EQ(other.Requests("/b.png").at(0).Header("X-Trace"), "1");  // Plain headers go everywhere.
  EXPECT_EQ(segtune::FetchUrl(other.Url("/b.png"), options), "b");
  EXPECT_EQ(other.Requests("/b.png").at(1).Header("Authorization"), "");
}

// Item 5: the credential is not carried along a redirect to another host or port.
TEST(DownloadLimits, CredentialIsDroppedOnARedirectToAnotherPort) {
  HttpServer own, other;
  TempDir dir;
  own.SetRoute("/m.png", Redirect(other.Url("/elsewhere.png")));
  other.SetRoute("/elsewhere.png", Serving("mask"));
  DownloadOptions options = FastOptions();
  options.credential_headers = {"Authorization: Bearer k"};
  options.credential_hosts = {own.Url("")};
  const DownloadResult r = DownloadOne(own.Url("/m.png"), dir / "m.png", options);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(segtune::ReadFile(dir / "m.png"), "mask");
  EXPECT_EQ(own.Requests("/m.png").at(0).Header("Authorization"), "Bearer k");
  EXPECT_EQ(other.Requests("/elsewhere.png").at(0).Header("Authorization"), "");
}

TEST(DownloadLimits, CliNamesTheUrlTheLimitAndTheOptionAndRefusesFileUrls) {
  HttpServer server;
  TempDir dir;
  server.SetRoute("/endless.png", Endless());
  segtune::WriteFileAtomic(dir / "secret.png", "not for the dataset");
  segtune::CocoDataset d;
  d.categories.push_back({1, "bottle", "", {}});
  segtune::CocoImage endless, local;
  endless.id = {"e", false};
  endless.file_name = server.Url("/endless.png?sig=s3cret");
  local.id = {"f", false};
  local.file_name = "file://" + (dir / "secret.png").string();
  d.images = {endless, local};
  segtune::SaveCoco(d, dir / "in.json");
  const auto start = Clock::now();
  const auto result = segtune::testing::RunSegtune("download '" + (dir / "in.json").string() + "' --images-dir '" +
                                                   (dir / "images").string() + "' -o '" + (dir / "out.json").string() +
                                                   "' --max-bytes 64K --timeout 20 --retries 0");
  EXPECT_LT(SecondsSince(start), 10.0);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(Contains(result.output, server.Url("/endless.png?sig=***") +
                                          ": too large: more than the limit of 65,536 bytes (64 KiB)"))
      << result.output;
  EXPECT_TRUE(Contains(result.output, "raise --max-bytes")) << result.output;
  EXPECT_FALSE(Contains(result.output, "s3cret")) << result.output;
  EXPECT_TRUE(Contains(result.output, "only http:// and https:// URLs are downloaded, not file:// (pass "
                                      "--allow-file-urls DIR to copy local files from DIR)"))
      << result.output;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "images"))
    ADD_FAILURE() << "left behind: " << entry.path();
  EXPECT_EQ(segtune::LoadCoco(dir / "out.json").images.size(), 0u);
}
