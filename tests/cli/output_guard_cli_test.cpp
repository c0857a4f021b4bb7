// The single-file outputs of labelbox2coco, download, split, labelmap, config init, eval, coco-eval,
// validate --fix and weights convert (issue 18, "an existing output is never deleted or replaced
// unless the user says --overwrite, and then only a previous segtune output of the same kind"),
// tested by running the built binary: a file of the user's at the output path is refused with and
// without --overwrite and keeps its bytes; a previous output of the verb is refused without
// --overwrite and replaced with it.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/tfrecord.h"
#include "test_util.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunSegtune;
using testing::TempDir;

constexpr const char* kUserData = "my notes: do not delete\n";
constexpr int kExitUsage = 2;

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

bool Has(const CommandResult& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

// One verb writing one file: `args` is its command line without --overwrite; `out` the file it
// writes; `option` what the refusal tells the user to change; `exit_code` a successful run's.
struct Case {
  std::string verb;
  std::string args;
  fs::path out;
  std::string option = "--output";
  int exit_code = 0;
};

// A file of the user's at c.out is refused with and without --overwrite, naming the verb, the path
// and what to do, and keeps its bytes.
void ExpectForeignFileRefused(const Case& c) {
  WriteFileAtomic(c.out, kUserData);
  for (const std::string overwrite : {"", " --overwrite"}) {
    const CommandResult r = RunSegtune(c.args + overwrite);
    EXPECT_EQ(r.exit_code, kExitUsage) << c.args << overwrite << "\n" << r.output;
    EXPECT_TRUE(Has(r, c.verb + ": " + c.out.string() + ": exists and is not a")) << r.output;
    EXPECT_TRUE(Has(r, "segtune will not replace it, even with --overwrite: choose another " + c.option)) << r.output;
    EXPECT_EQ(ReadFile(c.out), kUserData) << c.args << overwrite;
  }
}

// The verb writes c.out where nothing was; a rerun without --overwrite is refused and leaves it.
// Returns what the first run wrote. The verb's --help documents --overwrite.
std::string ExpectWritesThenRefusesRerun(const Case& c) {
  const CommandResult help = RunSegtune(c.verb + " --help");
  EXPECT_TRUE(Has(help, "--overwrite") && Has(help, "never replaced")) << help.output;
  fs::remove(c.out);
  const CommandResult first = RunSegtune(c.args);
  EXPECT_EQ(first.exit_code, c.exit_code) << c.args << "\n" << first.output;
  EXPECT_TRUE(fs::is_regular_file(c.out)) << c.args << "\n" << first.output;
  const std::string written = fs::is_regular_file(c.out) ? ReadFile(c.out) : "";
  const CommandResult again = RunSegtune(c.args);
  EXPECT_EQ(again.exit_code, kExitUsage) << c.args << "\n" << again.output;
  EXPECT_TRUE(Has(again, c.verb + ": " + c.out.string() + ": exists (a previous")) << again.output;
  EXPECT_TRUE(Has(again, "pass --overwrite to replace it, or choose another " + c.option)) << again.output;
  EXPECT_EQ(ReadFile(c.out), written);
  return written;
}

// `stale` (a previous output of the verb, e.g. from other inputs) at c.out is replaced with --overwrite.
// Returns the new bytes.
std::string ExpectOverwriteReplaces(const Case& c, const std::string& stale) {
  WriteFileAtomic(c.out, stale);
  const CommandResult r = RunSegtune(c.args + " --overwrite");
  EXPECT_EQ(r.exit_code, c.exit_code) << c.args << " --overwrite\n" << r.output;
  const std::string now = ReadFile(c.out);
  EXPECT_NE(now, stale) << c.args << " --overwrite\n" << r.output;
  return now;
}

void ExpectGuarded(const Case& c, const std::string& stale) {
  ExpectForeignFileRefused(c);
  ExpectWritesThenRefusesRerun(c);
  ExpectOverwriteReplaces(c, stale);
}

// The same COCO object with one more key first: still a COCO JSON of ours, but not what a run writes.
std::string Stale(const std::string& json_object) {
  EXPECT_EQ(json_object.substr(0, 1), "{");
  return "{\"stale\": true, " + json_object.substr(1);
}

const char* kCoco = R"({"images": [
  {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
  {"id": 2, "file_name": "b.jpg", "width": 40, "height": 30},
  {"id": 3, "file_name": "c.jpg", "width": 40, "height": 30},
  {"id": 4, "file_name": "d.jpg", "width": 40, "height": 30}],
 "categories": [{"id": 1, "name": "bottle"}, {"id": 2, "name": "can"}],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 10, 10], "area": 100, "iscrowd": 0},
  {"id": 2, "image_id": 2, "category_id": 2, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0},
  {"id": 3, "image_id": 3, "category_id": 1, "bbox": [35, 2, 10, 10], "area": 100, "iscrowd": 0}]})";

std::string Png(int height, int width) {
  std::vector<uint8_t> bytes;
  cv::imencode(".png", cv::Mat(height, width, CV_8UC3, cv::Scalar(10, 20, 30)), bytes);
  return std::string(bytes.begin(), bytes.end());
}

TEST(OutputGuardCli, Labelbox2cocoKeepsAnExistingFile) {
  TempDir dir;
  WriteFileAtomic(dir / "export.json", R"([{"ID": "l1", "DataRow ID": "r1", "Labeled Data": "https://example.com/a.jpg",
    "Label": {"objects": [{"title": "bottle", "bbox": {"top": 5, "left": 4, "height": 12, "width": 8}}]}}])");
  const Case c{"labelbox2coco", "labelbox2coco " + Quote(dir / "export.json") + " -o " + Quote(dir / "coco.json"),
               dir / "coco.json"};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_EQ(ExpectOverwriteReplaces(c, Stale(fresh)), fresh);
}

TEST(OutputGuardCli, DownloadKeepsAnExistingFile) {
  TempDir dir;
  WriteFileAtomic(dir / "in.json", kCoco);  // No URLs: every image is kept as it is.
  const Case c{"download",
               "download " + Quote(dir / "in.json") + " --images-dir " + Quote(dir / "images") + " -o " +
                   Quote(dir / "local.json"),
               dir / "local.json"};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_EQ(ExpectOverwriteReplaces(c, Stale(fresh)), fresh);
}

// "<output>.failures.json" is written or removed by every run: a file of the user's there is refused
// before anything is fetched or written.
TEST(OutputGuardCli, DownloadChecksItsFailureReportFirst) {
  TempDir dir;
  WriteFileAtomic(dir / "in.json", kCoco);
  const Case c{"download",
               "download " + Quote(dir / "in.json") + " --images-dir " + Quote(dir / "images") + " -o " +
                   Quote(dir / "local.json"),
               dir / "local.json"};
  const fs::path failures = dir / "local.json.failures.json";
  WriteFileAtomic(failures, kUserData);
  const CommandResult r = RunSegtune(c.args + " --overwrite");
  EXPECT_EQ(r.exit_code, kExitUsage) << r.output;
  EXPECT_TRUE(Has(r, "download: " + failures.string() + ": exists and is not a")) << r.output;
  EXPECT_EQ(ReadFile(failures), kUserData);
  EXPECT_FALSE(fs::exists(c.out));
  EXPECT_FALSE(fs::exists(dir / "images"));
}

// A file already in --images-dir under a name download picks is taken as complete (a rerun resumes,
// docs/dataset.md) and is never replaced, nor removed when it turns out not to be an image.
TEST(OutputGuardCli, DownloadNeverReplacesOrRemovesAFileInImagesDir) {
  TempDir dir;
  fs::create_directories(dir / "src");
  fs::create_directories(dir / "images");
  WriteFileAtomic(dir / "src" / "a.png", Png(6, 8));
  WriteFileAtomic(dir / "src" / "b.png", Png(6, 8));
  const std::string url = "file://" + fs::absolute(dir / "src").string();
  WriteFileAtomic(dir / "in.json", R"({"images": [
    {"id": 1, "file_name": ")" + url + R"(/a.png", "width": 0, "height": 0},
    {"id": 2, "file_name": ")" + url + R"(/b.png", "width": 0, "height": 0}],
    "categories": [{"id": 1, "name": "x"}], "annotations": []})");
  WriteFileAtomic(dir / "images" / "a.png", kUserData);  // The user's, under a name download will pick.
  const CommandResult r = RunSegtune("download " + Quote(dir / "in.json") + " --images-dir " + Quote(dir / "images") +
                                     " -o " + Quote(dir / "local.json") + " --allow-file-urls " + Quote(dir / "src"));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // a.png is not an image: that image fails, b.png is fetched.
  EXPECT_EQ(ReadFile(dir / "images" / "a.png"), kUserData) << r.output;
  EXPECT_TRUE(Has(r, (dir / "images" / "a.png").string())) << r.output;
  EXPECT_TRUE(Has(r, "left in place")) << r.output;
  EXPECT_EQ(ReadFile(dir / "images" / "b.png"), Png(6, 8));
}

// A repeatable option takes one value per use: `--allow-file-urls DIR INPUT` must not read INPUT as a
// second directory (CLI11's vector options are greedy by default).
TEST(OutputGuardCli, RepeatableDownloadOptionsTakeOneValueEach) {
  TempDir dir;
  fs::create_directories(dir / "src");
  fs::create_directories(dir / "other");
  WriteFileAtomic(dir / "src" / "a.png", Png(6, 8));
  const std::string url = "file://" + fs::absolute(dir / "src").string();
  WriteFileAtomic(dir / "in.json", R"({"images": [{"id": 1, "file_name": ")" + url +
                                       R"(/a.png", "width": 0, "height": 0}], "categories": [], "annotations": []})");
  const CommandResult r = RunSegtune("download --allow-file-urls " + Quote(dir / "other") + " --allow-file-urls " +
                                     Quote(dir / "src") + " --header 'X-A: 1' " + Quote(dir / "in.json") +
                                     " --images-dir " + Quote(dir / "images") + " -o " + Quote(dir / "local.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadFile(dir / "images" / "a.png"), Png(6, 8)) << r.output;
}

TEST(OutputGuardCli, SplitChecksEveryPartBeforeWritingAny) {
  TempDir dir;
  WriteFileAtomic(dir / "all.json", kCoco);
  const std::string args = "split " + Quote(dir / "all.json") + " --train 0.5 --val 0.25 --test 0.25 --seed 3 -o " +
                           Quote(dir / "ds");
  ExpectForeignFileRefused({"split", args, dir / "ds_test.json"});  // The last part written.
  EXPECT_FALSE(fs::exists(dir / "ds_train.json"));  // Refused before any part was written.
  EXPECT_FALSE(fs::exists(dir / "ds_val.json"));
  fs::remove(dir / "ds_test.json");
  WriteFileAtomic(dir / "ds_val.json", kUserData);
  const CommandResult r = RunSegtune(args);
  EXPECT_EQ(r.exit_code, kExitUsage) << r.output;
  EXPECT_TRUE(Has(r, "split: " + (dir / "ds_val.json").string() + ": exists and is not a")) << r.output;
  EXPECT_FALSE(fs::exists(dir / "ds_train.json"));
  EXPECT_FALSE(fs::exists(dir / "ds_test.json"));
  EXPECT_EQ(ReadFile(dir / "ds_val.json"), kUserData);
  const Case c{"split", args, dir / "ds_train.json"};  // The first part checked.
  for (const std::string part : {"train", "val", "test"}) fs::remove(dir / ("ds_" + part + ".json"));
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_EQ(ExpectOverwriteReplaces(c, Stale(fresh)), fresh);
}

TEST(OutputGuardCli, LabelmapKeepsAnExistingFile) {
  TempDir dir;
  WriteFileAtomic(dir / "coco.json", kCoco);
  const Case c{"labelmap", "labelmap " + Quote(dir / "coco.json") + " -o " + Quote(dir / "label_map.pbtxt"),
               dir / "label_map.pbtxt"};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_NE(fresh.find("name: \"can\""), std::string::npos) << fresh;
  EXPECT_EQ(ExpectOverwriteReplaces(c, "item {\n  id: 1\n  name: \"old\"\n}\n"), fresh);
}

TEST(OutputGuardCli, ConfigInitKeepsAnExistingFile) {
  TempDir dir;
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\n");
  const std::string args = "config init --label-map " + Quote(dir / "label_map.pbtxt") + " --train " +
                           Quote(dir / "train.record") + " -o " + Quote(dir / "pipeline.config");
  const Case c{"config init", args, dir / "pipeline.config"};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_EQ(ExpectOverwriteReplaces(c, fresh + "\n# an older edit\n"), fresh);
}

// Prediction and ground-truth records `segtune eval` reads (one 4x6 image, classes 0..2).
void WriteEvalRecords(const fs::path& dir) {
  const std::vector<uint8_t> gt = {0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2};
  std::vector<uint8_t> pred = gt;
  pred[0] = 1;
  TFRecordWriter g(dir / "gt.record"), p(dir / "pred.record");
  tensorflow::Example e;
  SetBytes(&e, "image/source_id", "1");
  SetInt64(&e, "image/height", 4);
  SetInt64(&e, "image/width", 6);
  SetBytes(&e, "image/segmentation/class/encoded", EncodeGrayPng(gt.data(), 4, 6));
  SetBytes(&e, "image/segmentation/class/format", "png");
  g.Write(e.SerializeAsString());
  tensorflow::Example q;
  SetBytes(&q, "image/source_id", "1");
  SetBytes(&q, "image/segmentation/class/predicted", EncodeGrayPng(pred.data(), 4, 6));
  SetFloatList(&q, "image/segmentation/class/fraction", std::vector<float>(3, 0.f));
  p.Write(q.SerializeAsString());
  g.Close();
  p.Close();
}

TEST(OutputGuardCli, EvalKeepsAnExistingFile) {
  TempDir dir;
  WriteEvalRecords(dir.path());
  const Case c{"eval",
               "eval --predictions " + Quote(dir / "pred.record") + " --groundtruth " + Quote(dir / "gt.record") +
                   " -o " + Quote(dir / "metrics.json"),
               dir / "metrics.json"};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_NE(fresh.find("mean_iou"), std::string::npos) << fresh;
  EXPECT_EQ(ExpectOverwriteReplaces(c, Stale(fresh)), fresh);
}

TEST(OutputGuardCli, CocoEvalKeepsAnExistingFileAtTheDefaultPath) {
  TempDir dir;
  WriteFileAtomic(dir / "gt.json", kCoco);
  fs::create_directories(dir / "run");
  WriteFileAtomic(dir / "run" / "results.json",
                  R"([{"image_id": 1, "category_id": 1, "bbox": [2, 2, 10, 10], "score": 0.9}])");
  // Without -o, metrics.json goes next to --dt (where `eval -o run/metrics.json` may have put its own).
  const Case c{"coco-eval", "coco-eval --gt " + Quote(dir / "gt.json") + " --dt " + Quote(dir / "run" / "results.json"),
               dir / "run" / "metrics.json"};
  ExpectGuarded(c, "{\"stats_list\": []}\n");
}

TEST(OutputGuardCli, ValidateFixKeepsAnExistingFile) {
  TempDir dir;
  // Annotation 3's box runs past its image: a problem (exit 1) that --fix clips.
  WriteFileAtomic(dir / "in.json", kCoco);
  const Case c{"validate", "validate " + Quote(dir / "in.json") + " --fix -o " + Quote(dir / "fixed.json"),
               dir / "fixed.json", "--output", /*exit_code=*/1};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  EXPECT_EQ(ExpectOverwriteReplaces(c, Stale(fresh)), fresh);
  EXPECT_EQ(ReadFile(dir / "in.json"), kCoco);
}

// -o naming the input: the input is replaced by the fixed copy only when the user says --overwrite.
TEST(OutputGuardCli, ValidateFixInPlaceNeedsOverwrite) {
  TempDir dir;
  WriteFileAtomic(dir / "in.json", kCoco);
  const std::string args = "validate " + Quote(dir / "in.json") + " --fix -o " + Quote(dir / "." / "in.json");
  const CommandResult refused = RunSegtune(args);
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused.output;
  EXPECT_TRUE(Has(refused, "validate: " + (dir / "." / "in.json").string() + ": is the input file")) << refused.output;
  EXPECT_TRUE(Has(refused, "pass --overwrite to replace it with the fixed copy, or choose another --output"))
      << refused.output;
  EXPECT_EQ(ReadFile(dir / "in.json"), kCoco);
  const CommandResult fixed = RunSegtune(args + " --overwrite");
  EXPECT_EQ(fixed.exit_code, 1) << fixed.output;  // The input had problems...
  EXPECT_NE(ReadFile(dir / "in.json"), kCoco);
  const CommandResult clean = RunSegtune("validate " + Quote(dir / "in.json"));
  EXPECT_EQ(clean.exit_code, 0) << clean.output;  // ... the file now has none.
}

// A one-tensor safetensors file: header {"name": F32 [n]} and n floats of `value`.
std::string Safetensors(const std::string& name, int n, float value) {
  std::string header = R"({")" + name + R"(":{"dtype":"F32","shape":[)" + std::to_string(n) +
                       R"(],"data_offsets":[0,)" + std::to_string(4 * n) + "]}}";
  while (header.size() % 8) header += ' ';
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  bytes += header;
  for (int i = 0; i < n; ++i) bytes.append(reinterpret_cast<const char*>(&value), 4);
  return bytes;
}

// `ext` is the output's: .pth (recognized by its zip and state dict) or .safetensors (by its header).
void ExpectWeightsConvertGuarded(const std::string& ext) {
  TempDir dir;
  WriteFileAtomic(dir / "in.safetensors", Safetensors("conv.weight", 3, 1.5f));
  WriteFileAtomic(dir / "other.safetensors", Safetensors("other.weight", 2, 7.f));
  const fs::path out = dir / ("out" + ext);
  const Case c{"weights convert", "weights convert " + Quote(dir / "in.safetensors") + " " + Quote(out), out,
               "output file"};
  ExpectForeignFileRefused(c);
  const std::string fresh = ExpectWritesThenRefusesRerun(c);
  // A previous conversion of other weights.
  fs::remove(out);
  ASSERT_EQ(RunSegtune("weights convert " + Quote(dir / "other.safetensors") + " " + Quote(out)).exit_code, 0);
  const std::string stale = ReadFile(out);
  EXPECT_EQ(ExpectOverwriteReplaces(c, stale), fresh);
}

TEST(OutputGuardCli, WeightsConvertKeepsAnExistingFilePth) { ExpectWeightsConvertGuarded(".pth"); }

TEST(OutputGuardCli, WeightsConvertKeepsAnExistingFileSafetensors) { ExpectWeightsConvertGuarded(".safetensors"); }

}  // namespace
}  // namespace segtune
