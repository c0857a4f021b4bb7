// The zoo catalog, SHA-256, and `weights download` against a loopback HTTP server (never the internet).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <regex>

#include "http_server.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/sha256.h"
#include "segtune/models/safetensors.h"
#include "segtune/models/weight_catalog.h"
#include "test_util.h"

namespace segtune {
namespace {

using testing::HttpRoute;
using testing::HttpServer;
using testing::TempDir;

TEST(Sha256, MatchesFipsVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  TempDir dir;
  WriteFileAtomic(dir / "million", std::string(1000000, 'a'));
  EXPECT_EQ(Sha256OfFile(dir / "million"), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(WeightCatalog, EveryEntryHasAHashedFileNameAndAKeyPlan) {
  const std::regex file_pattern("[a-z0-9_]+-[0-9a-f]{8}\\.pth");
  for (const CatalogEntry& e : WeightCatalog()) {
    EXPECT_TRUE(std::regex_match(e.file, file_pattern)) << e.file;
    EXPECT_EQ(e.Url(), "https://download.pytorch.org/models/" + e.file);
    EXPECT_EQ(e.Sha256Prefix().size(), 8u);
    if (e.fits == CatalogEntry::Fits::kBackbone) {
      EXPECT_FALSE(e.prefix_remap.empty()) << e.name;
      EXPECT_EQ(e.TransferOptions().only_prefixes, std::vector<std::string>{"backbone."});
    }
    EXPECT_TRUE(e.TransferOptions().reinit_mismatched);
  }
  EXPECT_EQ(FindCatalogEntry("lraspp_mobilenet_v3_large").file, "lraspp_mobilenet_v3_large-d234d4ea.pth");
  EXPECT_EQ(FindCatalogEntry("resnet50-0676ba61.pth").name, "resnet50_imagenet");
  EXPECT_EQ(FindCatalogEntry("mobilenet_v3_large_imagenet").prefix_remap.at(0).second, "backbone.");
  EXPECT_THROW(FindCatalogEntry("lraspp_resnet9000"), UsageError);
}

// A catalog entry for `body` whose file name carries the body's real sha256 prefix.
CatalogEntry EntryFor(const std::string& body) {
  CatalogEntry entry;
  entry.name = "tiny";
  entry.model = "tiny";
  entry.file = "tiny-" + Sha256Hex(body).substr(0, 8) + ".safetensors";
  return entry;
}

std::string TinyWeights() {
  NamedTensors t;
  t.items = {{"w", torch::arange(1000, torch::kFloat32)}};
  return SerializeSafetensors(t);
}

TEST(DownloadWeights, FetchesFromMirrorAndVerifiesHash) {
  const std::string body = TinyWeights();
  const CatalogEntry entry = EntryFor(body);
  HttpServer server;
  HttpRoute route;
  route.body = body;
  server.SetRoute("/models/" + entry.file, route);
  TempDir dir;
  const auto path = DownloadWeights(entry, dir / "weights", server.Url("/models"));
  EXPECT_EQ(path, dir / "weights" / entry.file);
  EXPECT_EQ(ReadFile(path), body);
  EXPECT_TRUE(torch::equal(*LoadWeights(path).Find("w"), torch::arange(1000, torch::kFloat32)));
  // Present and correct: verified again, not fetched again.
  DownloadWeights(entry, dir / "weights", server.Url("/models/"));
  EXPECT_EQ(server.Hits("/models/" + entry.file), 1);
}

TEST(DownloadWeights, ResumesAPartialFile) {
  const std::string body = TinyWeights();
  const CatalogEntry entry = EntryFor(body);
  HttpServer server;
  HttpRoute route;
  route.body = body;
  server.SetRoute("/m/" + entry.file, route);
  TempDir dir;
  WriteFileAtomic(dir / (entry.file + ".part"), body.substr(0, 1500));
  const auto path = DownloadWeights(entry, dir.path(), server.Url("/m"));
  EXPECT_EQ(ReadFile(path), body);
  ASSERT_EQ(server.Hits("/m/" + entry.file), 1);
  EXPECT_EQ(server.Requests("/m/" + entry.file)[0].Header("range"), "bytes=1500-");
}

TEST(DownloadWeights, WrongHashIsAClearErrorAndRemovesTheFile) {
  const CatalogEntry& entry = FindCatalogEntry("lraspp_mobilenet_v3_large");
  HttpServer server;
  HttpRoute route;
  route.body = "these are not the weights you are looking for";
  server.SetRoute("/models/" + entry.file, route);
  TempDir dir;
  try {
    DownloadWeights(entry, dir.path(), server.Url("/models"));
    FAIL() << "accepted a file with the wrong sha256";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("start with d234d4ea"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / entry.file));
}

TEST(DownloadWeights, MissingFileOnMirrorIsAnIoError) {
  HttpServer server;
  TempDir dir;
  EXPECT_THROW(DownloadWeights(FindCatalogEntry("resnet50_imagenet"), dir.path(), server.Url("/none")), IoError);
}

TEST(WeightsCli, DownloadWithWrongHashExitsWithError) {
  const CatalogEntry& entry = FindCatalogEntry("fcn_resnet50");
  HttpServer server;
  HttpRoute route;
  route.body = "corrupt";
  server.SetRoute("/models/" + entry.file, route);
  TempDir dir;
  const auto result = testing::RunSegtune("weights download fcn_resnet50 --to '" + dir.path().string() +
                                          "' --mirror " + server.Url("/models"));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("sha256"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(dir / entry.file));
}

TEST(WeightsCli, ListShowsEveryCatalogEntry) {
  const auto result = testing::RunSegtune("weights list");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const CatalogEntry& e : WeightCatalog()) EXPECT_NE(result.output.find(e.file), std::string::npos) << e.file;
}

}  // namespace
}  // namespace segtune
