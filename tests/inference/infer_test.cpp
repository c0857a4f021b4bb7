// segtune infer: output record keys and values, side outputs, skipped corrupt input, and regions of a
// known class map.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/example.h"
#include "segtune/data/image_codec.h"
#include "segtune/data/tfrecord.h"
#include "segtune/inference/inference.h"
#include "segtune/inference/predict_overlay.h"
#include "segtune/inference/predict_regions.h"
#include "segtune/export/bundle.h"
#include "segtune/models/registry.h"
#include "segtune/models/safetensors.h"
#include "test_util.h"

namespace segtune {
namespace {

// An export directory holding a randomly initialised 3-class LR-ASPP (as `segtune export` lays it out).
void WriteTinyBundle(const std::filesystem::path& dir) {
  torch::manual_seed(3);
  SegmentationModel model = CreateSegmentationModel("lraspp_mobilenet_v3_large", 3);
  NamedTensors tensors;
  for (const auto& p : model->named_parameters()) tensors.items.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model->named_buffers()) tensors.items.emplace_back(b.key(), b.value().detach());
  std::filesystem::create_directories(dir);
  WriteFileAtomic(dir / "model.safetensors", SerializeSafetensors(tensors));
  BundleMetadata meta;
  meta.architecture = "lraspp_mobilenet_v3_large";
  meta.num_classes = 3;
  meta.class_names = {"background", "cat", "dog"};
  meta.mean = model->info().mean;
  meta.std = model->info().std;
  meta.onnx_input_type = "float";
  meta.onnx_shape = "dynamic";
  WriteFileAtomic(dir / "model.json", BundleMetadataToJson(meta));
}

std::string Jpeg(int h, int w, int seed) {
  cv::Mat image(h, w, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::circle(image, {w / 2, h / 2}, std::min(h, w) / 3, cv::Scalar(40 * seed, 200, 30), cv::FILLED);
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

tensorflow::Example ImageExample(const std::string& encoded, int h, int w, const std::string& id) {
  tensorflow::Example e;
  SetBytes(&e, "image/encoded", encoded);
  SetBytes(&e, "image/format", "jpeg");
  SetBytes(&e, "image/filename", "img_" + id + ".jpg");
  SetBytes(&e, "image/source_id", id);
  SetInt64(&e, "image/height", h);
  SetInt64(&e, "image/width", w);
  return e;
}

TEST(PredictedRegions, BoxesAndScoresOfAKnownClassMap) {
  cv::Mat map = cv::Mat::zeros(10, 20, CV_8UC1);
  cv::Mat prob(10, 20, CV_32FC1, cv::Scalar(0.5f));
  map(cv::Rect(2, 1, 3, 4)).setTo(1);   // Class 1 at x 2..4, y 1..4.
  prob(cv::Rect(2, 1, 3, 4)).setTo(0.9f);
  prob.at<float>(1, 2) = 0.3f;          // Mean over 12 pixels = (11 * 0.9 + 0.3) / 12.
  map(cv::Rect(10, 6, 5, 2)).setTo(1);  // A second, separate class-1 region.
  map(cv::Rect(16, 0, 4, 10)).setTo(2);
  const auto regions = FindPredictedRegions(map, prob, 3, 1, /*with_rle=*/true);
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[0].label, 1);
  EXPECT_EQ(regions[0].x, 2);
  EXPECT_EQ(regions[0].y, 1);
  EXPECT_EQ(regions[0].width, 3);
  EXPECT_EQ(regions[0].height, 4);
  EXPECT_EQ(regions[0].area, 12);
  EXPECT_NEAR(regions[0].score, (11 * 0.9 + 0.3) / 12, 1e-6);
  EXPECT_EQ(regions[1].label, 1);
  EXPECT_EQ(regions[1].x, 10);
  EXPECT_EQ(regions[1].area, 10);
  EXPECT_EQ(regions[2].label, 2);
  EXPECT_EQ(regions[2].area, 40);
  EXPECT_FALSE(regions[2].rle.empty());
  const auto fractions = ClassFractions(map, 3);
  EXPECT_NEAR(fractions[1], 22.0 / 200, 1e-6);
  EXPECT_NEAR(fractions[2], 40.0 / 200, 1e-6);
}

TEST(Inference, WritesPredictionsMasksOverlaysAndSkipsCorruptRecords) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  const int sizes[][2] = {{48, 64}, {48, 64}, {40, 56}};
  std::vector<std::string> jpegs;
  {
    TFRecordWriter writer(dir / "test.record");
    for (int i = 0; i < 3; ++i) {
      jpegs.push_back(Jpeg(sizes[i][0], sizes[i][1], i));
      writer.Write(ImageExample(jpegs.back(), sizes[i][0], sizes[i][1], std::to_string(i + 1)).SerializeAsString());
      if (i == 1) writer.Write(ImageExample("not a jpeg", 5, 5, "99").SerializeAsString());
    }
    writer.Close();
  }
  InferenceRequest request;
  request.model = dir / "model";
  request.inputs = {(dir / "test.record").string()};
  request.output = dir / "inference.record";
  request.masks_dir = dir / "masks";
  request.overlays_dir = dir / "overlays";
  request.coco_results = dir / "results.json";
  request.discard_image_pixels = true;
  request.batch_size = 2;
  request.threads = 2;
  const InferenceSummary summary = RunInference(request);
  EXPECT_EQ(summary.images, 3);
  EXPECT_EQ(summary.skipped, 1);
  ASSERT_EQ(summary.problems.size(), 1u);
  EXPECT_NE(summary.problems[0].find("record 2"), std::string::npos) << summary.problems[0];

  Bundle bundle = LoadBundle(dir / "model");
  const auto records = ReadAllRecords(dir / "inference.record");
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const int h = sizes[i][0], w = sizes[i][1];
    const auto e = ParseExample(records[i], "inference.record");
    EXPECT_FALSE(HasFeature(e, "image/encoded"));
    EXPECT_EQ(*GetBytes(e, "image/source_id", ""), std::to_string(i + 1));
    std::vector<uint8_t> predicted;
    int ph = 0, pw = 0;
    ASSERT_TRUE(DecodeGray(*GetBytes(e, "image/segmentation/class/predicted", ""), &predicted, &ph, &pw));
    EXPECT_EQ(ph, h);
    EXPECT_EQ(pw, w);
    // The predicted map is the model's argmax on the normalized decoded image.
    cv::Mat bgr = cv::imdecode(cv::Mat(1, static_cast<int>(jpegs[i].size()), CV_8U, jpegs[i].data()), cv::IMREAD_COLOR);
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    torch::NoGradGuard no_grad;
    auto x = torch::from_blob(rgb.data, {1, h, w, 3}, torch::kUInt8).permute({0, 3, 1, 2}).to(torch::kFloat) / 255.f;
    x = (x - torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1})) / torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
    const auto expected = bundle.model->forward(x).out.argmax(1).to(torch::kUInt8).contiguous();
    const int64_t same = (torch::from_blob(predicted.data(), {1, h, w}, torch::kUInt8) == expected).sum().item<int64_t>();
    EXPECT_GE(same, static_cast<int64_t>(h) * w * 99 / 100);  // Channels-last vs default order may flip ties.
    const auto fraction = GetFloatList(e, "image/segmentation/class/fraction", "");
    ASSERT_EQ(fraction.size(), 3u);
    EXPECT_NEAR(fraction[0] + fraction[1] + fraction[2], 1.0, 1e-5);
    const auto ymin = GetFloatList(e, "image/detection/bbox/ymin", "");
    const auto xmax = GetFloatList(e, "image/detection/bbox/xmax", "");
    const auto score = GetFloatList(e, "image/detection/score", "");
    const auto label = GetInt64List(e, "image/detection/label", "");
    EXPECT_EQ(ymin.size(), label.size());
    EXPECT_EQ(score.size(), label.size());
    for (size_t k = 0; k < label.size(); ++k) {
      EXPECT_TRUE(label[k] == 1 || label[k] == 2);
      EXPECT_GE(ymin[k], 0.f);
      EXPECT_LE(xmax[k], 1.f);
      EXPECT_GT(score[k], 0.f);
      EXPECT_LE(score[k], 1.f);
    }
    const cv::Mat mask = cv::imread((dir / "masks" / ("img_" + std::to_string(i + 1) + ".png")).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(mask.empty());
    EXPECT_EQ(mask.rows, h);
    EXPECT_EQ(mask.cols, w);
    EXPECT_EQ(0, std::memcmp(mask.data, predicted.data(), predicted.size()));
    const cv::Mat overlay = cv::imread((dir / "overlays" / ("img_" + std::to_string(i + 1) + ".jpg")).string());
    ASSERT_FALSE(overlay.empty());
    EXPECT_EQ(overlay.cols, w);
    EXPECT_GT(overlay.rows, h);  // Image plus legend.
  }
  const auto coco = nlohmann::json::parse(ReadFile(dir / "results.json"));
  ASSERT_TRUE(coco.is_array());
  for (const auto& d : coco) {
    EXPECT_TRUE(d["image_id"].is_number_integer());
    EXPECT_TRUE(d["segmentation"]["counts"].is_string());
  }
}

TEST(Inference, ImageDirectoryInputAndLoneOnnxIsAClearError) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  std::filesystem::create_directories(dir / "images");
  WriteFileAtomic(dir / "images" / "a.jpg", Jpeg(32, 40, 1));
  WriteFileAtomic(dir / "images" / "b.jpg", "broken");
  InferenceRequest request;
  request.model = dir / "model";
  request.inputs = {(dir / "images").string()};
  request.masks_dir = dir / "masks";
  const auto summary = RunInference(request);
  EXPECT_EQ(summary.images, 1);
  EXPECT_EQ(summary.skipped, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "masks" / "a.png"));
  WriteFileAtomic(dir / "lone.onnx", "x");
  EXPECT_THROW(LoadInferenceModel(dir / "lone.onnx"), UsageError);
}

}  // namespace
}  // namespace segtune
