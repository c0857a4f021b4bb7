// `segtune eval` over records: matching, ignore pixels, absent classes, and mIoU parity with
// torchvision's reference ConfusionMatrix (tests/evaluation/torchvision_miou.py).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/evaluation/semantic_eval.h"
#include "test_util.h"

namespace segtune {
namespace {

struct Image {
  std::string id;
  int h, w;
  std::vector<uint8_t> gt, pred;
};

// Random maps with num_classes classes; ~5% of ground-truth pixels are 255 (ignore).
std::vector<Image> RandomImages(int num_classes, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<Image> images;
  const int sizes[][2] = {{12, 16}, {20, 10}, {8, 8}, {15, 15}};
  for (int i = 0; i < 4; ++i) {
    Image im{std::to_string(100 + i), sizes[i][0], sizes[i][1], {}, {}};
    for (int p = 0; p < im.h * im.w; ++p) {
      const uint8_t g = static_cast<uint8_t>(rng() % num_classes);
      im.gt.push_back(rng() % 20 == 0 ? 255 : g);
      im.pred.push_back(rng() % 3 == 0 ? static_cast<uint8_t>(rng() % num_classes) : g);
    }
    images.push_back(std::move(im));
  }
  return images;
}

void WriteRecords(const std::vector<Image>& images, const std::filesystem::path& gt_path,
                  const std::filesystem::path& pred_path, int num_classes, bool reverse_predictions) {
  TFRecordWriter gt(gt_path), pred(pred_path);
  for (const auto& im : images) {
    tensorflow::Example e;
    SetBytes(&e, "image/source_id", im.id);
    SetInt64(&e, "image/height", im.h);
    SetInt64(&e, "image/width", im.w);
    SetBytes(&e, "image/segmentation/class/encoded", EncodeGrayPng(im.gt.data(), im.h, im.w));
    SetBytes(&e, "image/segmentation/class/format", "png");
    gt.Write(e.SerializeAsString());
  }
  for (size_t k = 0; k < images.size(); ++k) {
    const Image& im = images[reverse_predictions ? images.size() - 1 - k : k];
    tensorflow::Example e;
    SetBytes(&e, "image/source_id", im.id);
    SetBytes(&e, "image/segmentation/class/predicted", EncodeGrayPng(im.pred.data(), im.h, im.w));
    SetFloatList(&e, "image/segmentation/class/fraction", std::vector<float>(num_classes, 0.f));
    pred.Write(e.SerializeAsString());
  }
  gt.Close();
  pred.Close();
}

TEST(SemanticEvalRecords, MatchesBySourceIdAndCountsLikeAHandBuiltMatrix) {
  testing::TempDir dir;
  const int n = 3;
  const auto images = RandomImages(n, 7);
  WriteRecords(images, dir / "gt.record", dir / "pred.record", n, /*reverse_predictions=*/true);
  SemanticEvalOptions request;
  request.predictions = (dir / "pred.record").string();
  request.groundtruth = (dir / "gt.record").string();
  const SemanticEvalResult result = EvaluateSemanticRecords(request);
  EXPECT_EQ(result.matched_by, "image/source_id");
  EXPECT_EQ(result.images, 4);
  std::vector<int64_t> expected(n * n, 0);
  int64_t ignored = 0;
  for (const auto& im : images) {
    for (size_t p = 0; p < im.gt.size(); ++p) {
      if (im.gt[p] == 255) {
        ++ignored;
        continue;
      }
      ++expected[im.gt[p] * n + im.pred[p]];
    }
  }
  EXPECT_EQ(result.metrics.confusion, expected);
  EXPECT_EQ(result.metrics.ignored_pixels, ignored);
  ASSERT_EQ(result.metrics.per_class.size(), 3u);
}

TEST(SemanticEvalRecords, FallsBackToRecordOrderWithoutSourceIds) {
  testing::TempDir dir;
  {
    TFRecordWriter gt(dir / "gt.record"), pred(dir / "pred.record");
    const std::vector<uint8_t> g = {0, 1, 1, 255}, p = {0, 1, 0, 1};
    tensorflow::Example e;
    SetInt64(&e, "image/height", 2);
    SetInt64(&e, "image/width", 2);
    SetBytes(&e, "image/segmentation/class/encoded", EncodeGrayPng(g.data(), 2, 2));
    gt.Write(e.SerializeAsString());
    tensorflow::Example q;
    SetBytes(&q, "image/segmentation/class/predicted", EncodeGrayPng(p.data(), 2, 2));
    pred.Write(q.SerializeAsString());
    gt.Close();
    pred.Close();
  }
  SemanticEvalOptions request;
  request.predictions = (dir / "pred.record").string();
  request.groundtruth = (dir / "gt.record").string();
  request.num_classes = 3;  // Class 2 never occurs: reported absent, not counted as IoU 0.
  const SemanticEvalResult result = EvaluateSemanticRecords(request);
  EXPECT_EQ(result.matched_by, "record order");
  // C = [[1,0],[1,1]] over classes 0,1: IoU0 = 1/2, IoU1 = 1/2; pixel acc 2/3.
  EXPECT_DOUBLE_EQ(result.metrics.per_class[0].iou, 0.5);
  EXPECT_DOUBLE_EQ(result.metrics.per_class[1].iou, 0.5);
  EXPECT_FALSE(result.metrics.per_class[2].present);
  EXPECT_DOUBLE_EQ(result.metrics.mean_iou, 0.5);
  EXPECT_DOUBLE_EQ(result.metrics.pixel_accuracy, 2.0 / 3.0);
  EXPECT_EQ(result.metrics.ignored_pixels, 1);
}

TEST(SemanticEvalRecords, CliNamesClassesFromTheLabelMap) {
  testing::TempDir dir;
  const auto images = RandomImages(3, 5);
  WriteRecords(images, dir / "gt.record", dir / "pred.record", 3, /*reverse_predictions=*/false);
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'bottle' }\nitem { id: 2 name: 'can' }\n");
  const auto cli = testing::RunSegtune("eval --predictions '" + (dir / "pred.record").string() + "' --groundtruth '" +
                                       (dir / "gt.record").string() + "' --label-map '" +
                                       (dir / "label_map.pbtxt").string() + "' -o '" + (dir / "metrics.json").string() + "'");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("background"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("bottle"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("can"), std::string::npos) << cli.output;
}

TEST(SemanticEvalRecords, CliMiouMatchesTorchvisionConfusionMatrix) {
  testing::TempDir dir;
  const int n = 4;
  const auto images = RandomImages(n, 11);
  WriteRecords(images, dir / "gt.record", dir / "pred.record", n, /*reverse_predictions=*/false);
  std::string gt_bytes, pred_bytes;
  for (const auto& im : images) {
    gt_bytes.append(im.gt.begin(), im.gt.end());
    pred_bytes.append(im.pred.begin(), im.pred.end());
  }
  WriteFileAtomic(dir / "gt.bin", gt_bytes);
  WriteFileAtomic(dir / "pred.bin", pred_bytes);
  const auto cli = testing::RunSegtune("eval --predictions '" + (dir / "pred.record").string() + "' --groundtruth '" +
                                       (dir / "gt.record").string() + "' -o '" + (dir / "metrics.json").string() +
                                       "' --logdir '" + (dir / "logs").string() + "'");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("mIoU"), std::string::npos) << cli.output;
  const auto ref = testing::RunPython("'" + testing::SourcePath("tests/evaluation/torchvision_miou.py") + "' " +
                                      std::to_string(n) + " '" + (dir / "gt.bin").string() + "' '" +
                                      (dir / "pred.bin").string() + "'");
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  const auto reference = nlohmann::json::parse(ref.output);
  const auto ours = nlohmann::json::parse(ReadFile(dir / "metrics.json"));
  EXPECT_NEAR(ours["mean_iou"].get<double>(), reference["mean_iou"].get<double>(), 1e-6);
  EXPECT_NEAR(ours["pixel_accuracy"].get<double>(), reference["pixel_accuracy"].get<double>(), 1e-6);
  EXPECT_NEAR(ours["mean_class_accuracy"].get<double>(), reference["mean_class_accuracy"].get<double>(), 1e-6);
  EXPECT_EQ(ours["confusion_matrix"], reference["confusion"]);
  EXPECT_FALSE(std::filesystem::is_empty(dir / "logs"));
}

}  // namespace
}  // namespace segtune
