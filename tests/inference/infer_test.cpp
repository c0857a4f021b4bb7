// segtune infer: output record keys and values, side outputs, skipped corrupt input, and regions of a
// known class map.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/data/class_colors.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/export/export_model.h"
#include "segtune/inference/torch/semantic_inference.h"
#include "segtune/inference/semantic_overlay.h"
#include "segtune/inference/semantic_regions.h"
#include "segtune/export/semantic_bundle.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/safetensors.h"
#include "test_util.h"

namespace segtune {
namespace {

// An export directory holding a randomly initialised 3-class LR-ASPP (as `segtune export` lays it out).
void WriteTinyBundle(const std::filesystem::path& dir) {
  torch::manual_seed(3);
  SemanticModel model = CreateSemanticModel("lraspp_mobilenet_v3_large", 3);
  NamedTensors tensors;
  for (const auto& p : model->named_parameters()) tensors.items.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model->named_buffers()) tensors.items.emplace_back(b.key(), b.value().detach());
  std::filesystem::create_directories(dir);
  WriteFileAtomic(dir / "model.safetensors", SerializeSafetensors(tensors));
  SemanticBundleMetadata meta;
  meta.architecture = "lraspp_mobilenet_v3_large";
  meta.num_classes = 3;
  meta.class_names = {"background", "cat", "dog"};
  meta.mean = model->info().mean;
  meta.std = model->info().std;
  meta.onnx_input_type = "float";
  meta.onnx_shape = "dynamic";
  WriteFileAtomic(dir / "model.json", SemanticBundleMetadataToJson(meta));
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
  InferenceOptions request;
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

  SemanticBundle bundle = LoadSemanticBundle(dir / "model");
  const auto records = ReadAllRecords(dir / "inference.record");
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const int h = sizes[i][0], w = sizes[i][1];
    const auto e = ParseExample(records[i], "inference.record");
    EXPECT_FALSE(HasFeature(e, "image/encoded"));
    EXPECT_EQ(*GetBytes(e, "image/source_id", ""), std::to_string(i + 1));
    std::vector<uint8_t> predicted;
    int ph = 0, pw = 0;
    DecodeGray(*GetBytes(e, "image/segmentation/class/predicted", ""), "test", "predicted", &predicted, &ph, &pw);
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
    EXPECT_GE(overlay.cols, w);  // Widened when the legend needs it.
    EXPECT_GT(overlay.rows, h);  // Image plus legend.
  }
  const auto coco = nlohmann::json::parse(ReadFile(dir / "results.json"));
  ASSERT_TRUE(coco.is_array());
  for (const auto& d : coco) {
    EXPECT_TRUE(d["image_id"].is_number_integer());
    EXPECT_TRUE(d["segmentation"]["counts"].is_string());
  }
}

// Issue 18 item 9: an empty image/encoded and a PNG header claiming 100000x100000 used to stop the
// whole run with OpenCV's assertion text; they are skipped and reported with file and record.
TEST(Inference, SkipsEmptyAndOversizedImagesNamingFileAndRecord) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  // A PNG signature and an IHDR (valid CRC) declaring 100000x100000 8-bit gray pixels, then IEND.
  std::string bomb("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\0\0\0\0", 29);
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(bomb.data() + 12), 17);
  for (int i = 3; i >= 0; --i) bomb.push_back(char(crc >> (8 * i)));
  bomb += std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  {
    TFRecordWriter writer(dir / "bad.record");
    writer.Write(ImageExample(Jpeg(32, 40, 1), 32, 40, "1").SerializeAsString());
    writer.Write(ImageExample("", 5, 5, "2").SerializeAsString());
    writer.Write(ImageExample(bomb, 100000, 100000, "3").SerializeAsString());
    writer.Write(ImageExample(Jpeg(32, 40, 2), 32, 40, "4").SerializeAsString());
    writer.Close();
  }
  InferenceOptions request;
  request.model = dir / "model";
  request.inputs = {(dir / "bad.record").string()};
  request.masks_dir = dir / "masks";
  const InferenceSummary summary = RunInference(request);
  EXPECT_EQ(summary.images, 2);
  EXPECT_EQ(summary.skipped, 2);
  ASSERT_EQ(summary.problems.size(), 2u);
  EXPECT_NE(summary.problems[0].find("bad.record: record 1: image/encoded: empty (0 bytes)"), std::string::npos)
      << summary.problems[0];
  EXPECT_NE(summary.problems[1].find("bad.record: record 2: image/encoded: PNG header declares 100000x100000"),
            std::string::npos)
      << summary.problems[1];
  EXPECT_NE(summary.problems[1].find("--max-pixels"), std::string::npos) << summary.problems[1];
}

TEST(Inference, ImageDirectoryInputSkipsBrokenImages) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  std::filesystem::create_directories(dir / "images");
  WriteFileAtomic(dir / "images" / "a.jpg", Jpeg(32, 40, 1));
  WriteFileAtomic(dir / "images" / "b.jpg", "broken");
  InferenceOptions request;
  request.model = dir / "model";
  request.inputs = {(dir / "images").string()};
  request.masks_dir = dir / "masks";
  const auto summary = RunInference(request);
  EXPECT_EQ(summary.images, 1);
  EXPECT_EQ(summary.skipped, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "masks" / "a.png"));
  WriteFileAtomic(dir / "lone.onnx", "x");
  EXPECT_THROW(LoadSemanticInferenceModel(dir / "lone.onnx"), FormatError);
}

// Exports the tiny bundle in dir/model to dir/exported and copies its model.onnx alone to
// dir/lone/<name>.onnx (no model.json beside it: OpenCV DNN runs it). Returns that path.
std::filesystem::path ExportLoneOnnx(const testing::TempDir& dir, const std::string& name, OnnxInputType input_type,
                                     std::optional<std::pair<int64_t, int64_t>> fixed_size) {
  WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'cat' }\nitem { id: 2 name: 'dog' }\n");
  ExportOptions exp;
  exp.model_name = "lraspp_mobilenet_v3_large";
  exp.num_classes = 3;
  exp.label_map = dir / "label_map.pbtxt";
  exp.checkpoint = dir / "model" / "model.safetensors";
  exp.output_dir = dir / "exported";
  exp.input_type = input_type;
  exp.fixed_size = fixed_size;
  ExportModel(exp);
  std::filesystem::create_directories(dir / "lone");
  const std::filesystem::path lone = dir / "lone" / (name + ".onnx");
  std::filesystem::copy_file(dir / "exported" / "model.onnx", lone, std::filesystem::copy_options::overwrite_existing);
  return lone;
}

// Class maps by image name from `segtune infer` with `model` over dir/images.
InferenceSummary PredictImages(const testing::TempDir& dir, const std::filesystem::path& model,
                               std::map<std::string, cv::Mat>* maps) {
  InferenceOptions request;
  request.model = model;
  request.inputs = {(dir / "images").string()};
  request.masks_dir = dir / ("masks-" + model.filename().string());
  return RunSemanticInference(request, [&](const SemanticImage& p) { (*maps)[p.name] = p.class_map.clone(); });
}

// Fraction of the 64x64 images i0..i2 on which two runs predict the same class.
double Agreement(std::map<std::string, cv::Mat>& a, std::map<std::string, cv::Mat>& b) {
  int64_t same = 0, total = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "i" + std::to_string(i);
    if (a[name].size() != cv::Size(64, 64) || b[name].size() != cv::Size(64, 64)) return 0;
    same += cv::countNonZero(a[name] == b[name]);
    total += 64 * 64;
  }
  return static_cast<double>(same) / total;
}

void WriteImages(const testing::TempDir& dir) {
  std::filesystem::create_directories(dir / "images");
  for (int i = 0; i < 3; ++i) WriteFileAtomic(dir / "images" / ("i" + std::to_string(i) + ".jpg"), Jpeg(64, 64, i));
  WriteFileAtomic(dir / "images" / "other_size.jpg", Jpeg(48, 80, 4));
}

TEST(Inference, LoneOnnxFileRunsInOpenCvAndAgreesWithTheExportDirectory) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  WriteImages(dir);  // other_size.jpg is resized to the declared 64x64.
  const auto lone = ExportLoneOnnx(dir, "tiny", OnnxInputType::kFloat, std::make_pair(int64_t{64}, int64_t{64}));
  std::map<std::string, cv::Mat> native, onnx;
  const auto native_summary = PredictImages(dir, dir / "exported", &native);
  const auto onnx_summary = PredictImages(dir, lone, &onnx);
  EXPECT_EQ(onnx_summary.images, 4);
  EXPECT_EQ(onnx_summary.class_names, (std::vector<std::string>{"background", "cat", "dog"}));
  EXPECT_EQ(onnx_summary.class_names, native_summary.class_names);
  EXPECT_GE(Agreement(onnx, native), 0.999);
  EXPECT_EQ(onnx["other_size"].size(), cv::Size(80, 48));
  const cv::Mat mask = cv::imread((dir / "masks-tiny.onnx" / "other_size.png").string(), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(mask.size(), cv::Size(80, 48));
}

TEST(Inference, LoneUint8InputOnnxFileGetsRawPixelsAndAgreesWithTheExportDirectory) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  WriteImages(dir);
  const auto lone = ExportLoneOnnx(dir, "uint8", OnnxInputType::kUint8, std::make_pair(int64_t{64}, int64_t{64}));
  std::map<std::string, cv::Mat> native, onnx;
  PredictImages(dir, dir / "exported", &native);
  const auto summary = PredictImages(dir, lone, &onnx);
  EXPECT_EQ(summary.images, 4);
  EXPECT_EQ(summary.skipped, 0);
  EXPECT_GE(Agreement(onnx, native), 0.999);  // Normalization happens inside the graph.
  EXPECT_EQ(onnx["other_size"].size(), cv::Size(80, 48));
}

TEST(Inference, LoneDynamicSizeOnnxFileFailsWithTheReExportHint) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  WriteImages(dir);
  const auto lone = ExportLoneOnnx(dir, "dynamic", OnnxInputType::kFloat, std::nullopt);
  std::map<std::string, cv::Mat> onnx;
  try {
    PredictImages(dir, lone, &onnx);
    FAIL() << "OpenCV 4.6 was expected to reject the dynamic graph's shape arithmetic";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("dynamic.onnx"), std::string::npos) << message;
    EXPECT_NE(message.find("--input-size"), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "masks-dynamic.onnx" / "i0.png"));
}

TEST(Overlay, SmallImageGetsAWiderCanvasWithALegendStripNamingTheClasses) {
  cv::Mat image(64, 64, CV_8UC3, cv::Scalar(90, 140, 60));
  cv::Mat map = cv::Mat::zeros(64, 64, CV_8UC1);
  map(cv::Rect(8, 8, 20, 20)).setTo(1);
  map(cv::Rect(40, 30, 20, 30)).setTo(2);
  const cv::Mat overlay = RenderOverlay(image, map, {"background", "cat", "dog"});
  // The two legend lines ("1 cat  9.8%", "2 dog  14.6%") do not fit in 64 px: the canvas widens.
  EXPECT_GT(overlay.cols, 100);
  EXPECT_GT(overlay.rows, 64 + 2 * 12);  // Two lines of at least 12 px.
  EXPECT_LT(overlay.rows, 64 + 2 * 40);
  // The image sits top-left, untouched where the class is background.
  EXPECT_EQ(overlay.at<cv::Vec3b>(2, 2), image.at<cv::Vec3b>(2, 2));
  EXPECT_EQ(overlay.at<cv::Vec3b>(10, 80), cv::Vec3b(32, 32, 32));  // Padding beside the image.
  // The strip holds both classes' swatches and light text pixels.
  const cv::Mat strip = overlay(cv::Rect(0, 64, overlay.cols, overlay.rows - 64));
  auto count_color = [&](cv::Vec3b color) {
    cv::Mat match;
    cv::inRange(strip, cv::Scalar(color[0], color[1], color[2]), cv::Scalar(color[0], color[1], color[2]), match);
    return cv::countNonZero(match);
  };
  EXPECT_GT(count_color(ClassColor(1)), 20);
  EXPECT_GT(count_color(ClassColor(2)), 20);
  cv::Mat gray;
  cv::cvtColor(strip(cv::Rect(24, 0, strip.cols - 24, strip.rows)), gray, cv::COLOR_BGR2GRAY);  // Right of the swatches.
  EXPECT_GT(cv::countNonZero(gray > 180), 40);
  // A large image keeps its width and gets a proportionally larger legend.
  const cv::Mat big = RenderOverlay(cv::Mat(1200, 1600, CV_8UC3, cv::Scalar::all(0)), cv::Mat::ones(1200, 1600, CV_8UC1),
                                    {"background", "cat"});
  EXPECT_EQ(big.cols, 1600);
  EXPECT_GT(big.rows - 1200, overlay.rows - 64);  // One line at 1600 px is taller than two at 64 px.
}

// The CLI takes TF's option spellings, shard globs and a text file listing images; `eval --model
// --data` gives the same numbers as `eval --predictions` over infer's output.
TEST(InferCli, AcceptsTfSpellingsShardGlobsAndImageListsAndEvalModesAgree) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  for (int i = 0; i < 2; ++i) {
    TFRecordWriter writer(ShardPath((dir / "test").string(), i, 2));
    tensorflow::Example e = ImageExample(Jpeg(32, 32, i), 32, 32, std::to_string(i + 1));
    cv::Mat truth(32, 32, CV_8UC1, cv::Scalar(0));
    truth(cv::Rect(4, 4, 20, 12 + 4 * i)).setTo(1 + i);
    SetBytes(&e, "image/segmentation/class/encoded", EncodeGrayPng(truth.data, 32, 32));
    SetBytes(&e, "image/segmentation/class/format", "png");
    writer.Write(e.SerializeAsString());
    writer.Close();
  }
  const auto tf = testing::RunSegtune("infer --inference_graph '" + (dir / "model").string() +
                                      "' --input_tfrecord_paths '" + (dir / "test-*").string() +
                                      "' --output_tfrecord_path '" + (dir / "out.record").string() +
                                      "' --discard_image_pixels");
  ASSERT_EQ(tf.exit_code, 0) << tf.output;
  const auto records = ReadAllRecords(dir / "out.record");
  ASSERT_EQ(records.size(), 2u);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto e = ParseExample(records[i], "out.record");
    EXPECT_FALSE(HasFeature(e, "image/encoded"));
    EXPECT_TRUE(HasFeature(e, "image/segmentation/class/predicted"));
    EXPECT_EQ(*GetBytes(e, "image/source_id", ""), std::to_string(i + 1));
  }
  const auto from_records = testing::RunSegtune("eval --num-classes 3 --predictions '" +
                                                (dir / "out.record").string() + "' -o '" + (dir / "m1.json").string() +
                                                "'");
  ASSERT_EQ(from_records.exit_code, 0) << from_records.output;
  const auto from_model = testing::RunSegtune("eval --model '" + (dir / "model").string() + "' --data '" +
                                              (dir / "test-*").string() + "' -o '" + (dir / "m2.json").string() + "'");
  ASSERT_EQ(from_model.exit_code, 0) << from_model.output;
  const auto m1 = nlohmann::json::parse(ReadFile(dir / "m1.json"));
  const auto m2 = nlohmann::json::parse(ReadFile(dir / "m2.json"));
  EXPECT_EQ(m1["confusion_matrix"], m2["confusion_matrix"]);
  EXPECT_EQ(m1["mean_iou"], m2["mean_iou"]);
  EXPECT_EQ(m1["frequency_weighted_iou"], m2["frequency_weighted_iou"]);
  std::filesystem::create_directories(dir / "pics");
  WriteFileAtomic(dir / "pics" / "a.jpg", Jpeg(24, 40, 1));
  WriteFileAtomic(dir / "list.txt", "# images to label\npics/a.jpg\n\n");
  const auto list = testing::RunSegtune("infer -m '" + (dir / "model").string() + "' --input '" +
                                        (dir / "list.txt").string() + "' --masks-dir '" + (dir / "masks").string() + "'");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(cv::imread((dir / "masks" / "a.png").string(), cv::IMREAD_UNCHANGED).size(), cv::Size(40, 24));
}


// image/filename and image/source_id come from the record: they must not pick a hidden file, a file
// outside --masks-dir, or a name with terminal escapes.
TEST(Inference, OutputNamesFromRecordsAreSanitized) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  const std::vector<std::string> ids = {"../../victim", ".hidden", "a\x1b[2Jb"};
  {
    TFRecordWriter writer(dir / "test.record");
    for (size_t i = 0; i < ids.size(); ++i) {
      tensorflow::Example e = ImageExample(Jpeg(24, 24, int(i)), 24, 24, ids[i]);
      SetBytes(&e, "image/filename", "");
      writer.Write(e.SerializeAsString());
    }
    tensorflow::Example e = ImageExample(Jpeg(24, 24, 5), 24, 24, "5");
    SetBytes(&e, "image/filename", "../../../../escape.jpg");
    writer.Write(e.SerializeAsString());
    writer.Close();
  }
  std::filesystem::create_directories(dir / "deep" / "er");
  InferenceOptions request;
  request.model = dir / "model";
  request.inputs = {(dir / "test.record").string()};
  request.masks_dir = dir / "deep" / "er" / "masks";
  ::testing::internal::CaptureStderr();
  const auto summary = RunInference(request);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(summary.images, 4);
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(request.masks_dir)) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"_.._victim.png", "hidden.png", "a_[2Jb.png", "escape.png"}));
  EXPECT_FALSE(std::filesystem::exists(dir / "deep" / "victim.png"));
  EXPECT_NE(err.find("test.record: record 0: image/source_id \"../../victim\" is unsafe as a file name"),
            std::string::npos)
      << err;
}

// issue 18 item 2 (infer's outputs): nothing that is not a previous infer output is replaced.
TEST(Inference, ExistingOutputsAreReplacedOnlyWithOverwriteAndOnlyIfTheirs) {
  testing::TempDir dir;
  InferenceOptions r;
  r.output = dir / "notes.txt";
  WriteFileAtomic(r.output, "my notes");
  r.overwrite = true;
  EXPECT_THROW(CheckInferenceOutputs(r), UsageError);
  {
    TFRecordWriter w(dir / "out.record");
    w.Write("x");
    w.Close();
  }
  r.output = dir / "out.record";
  r.overwrite = false;
  try {
    CheckInferenceOutputs(r);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("infer: " + r.output.string() + ": exists (a previous TFRecord output); "
                                         "pass --overwrite"),
              std::string::npos)
        << e.what();
  }
  r.overwrite = true;
  EXPECT_NO_THROW(CheckInferenceOutputs(r));

  std::filesystem::create_directories(dir / "photos");
  WriteFileAtomic(dir / "photos" / "a.png", "a photo the masks would replace");
  WriteFileAtomic(dir / "photos" / "b.jpg", "another photo");
  r.masks_dir = dir / "photos";
  try {
    CheckInferenceOutputs(r);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("holds b.jpg, which is not a previous infer output"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove(dir / "photos" / "b.jpg");
  r.overwrite = false;
  EXPECT_THROW(CheckInferenceOutputs(r), UsageError);
  r.overwrite = true;
  EXPECT_NO_THROW(CheckInferenceOutputs(r));
}

// Issue 20: --engine chooses oneDNN kernels (default) or LibTorch throughout; -v names the engine and
// what stayed in LibTorch; both engines give the same class maps, for images batched (small) and run one
// at a time (256x256 or more).
TEST(InferCli, EnginesGiveTheSameMasksAndVerboseNamesTheEngine) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  std::filesystem::create_directories(dir / "pics");
  WriteFileAtomic(dir / "pics" / "small1.jpg", Jpeg(40, 56, 1));
  WriteFileAtomic(dir / "pics" / "small2.jpg", Jpeg(40, 56, 2));
  WriteFileAtomic(dir / "pics" / "large.jpg", Jpeg(264, 280, 3));
  std::map<std::string, std::string> outputs;
  for (const std::string engine : {"onednn", "torch"}) {
    const auto r = testing::RunSegtune("-v infer -m '" + (dir / "model").string() + "' --input '" +
                                       (dir / "pics").string() + "' --masks-dir '" + (dir / engine).string() +
                                       "' --engine " + engine);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    outputs[engine] = r.output;
  }
  // LR-ASPP runs in the LibTorch-free runtime (no LibTorch loaded), --engine torch in the LibTorch plugin.
  EXPECT_NE(outputs["onednn"].find("engine onednn, LibTorch-free runtime: 66 convolutions"), std::string::npos)
      << outputs["onednn"];
  EXPECT_EQ(outputs["onednn"].find("libsegtune_plugin.so"), std::string::npos) << outputs["onednn"];
  EXPECT_NE(outputs["torch"].find("engine torch"), std::string::npos) << outputs["torch"];
  for (const std::string name : {"small1.png", "small2.png", "large.png"}) {
    const cv::Mat a = cv::imread((dir / "onednn" / name).string(), cv::IMREAD_UNCHANGED);
    const cv::Mat b = cv::imread((dir / "torch" / name).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(a.empty()) << name;
    ASSERT_EQ(a.size(), b.size()) << name;
    // Random weights: a near tie may flip a pixel; real maps agree (docs/models.md).
    EXPECT_GE(1.0 - cv::countNonZero(a != b) / static_cast<double>(a.total()), 0.999) << name;
  }
  const auto bad = testing::RunSegtune("infer -m '" + (dir / "model").string() + "' --input '" +
                                       (dir / "pics").string() + "' --masks-dir '" + (dir / "x").string() +
                                       "' --engine xnnpack");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--engine"), std::string::npos) << bad.output;
}

TEST(InferCli, FailsWhenEveryInputIsSkipped) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  {
    TFRecordWriter writer(dir / "bad.record");
    writer.Write(ImageExample("not a jpeg", 5, 5, "1").SerializeAsString());
    writer.Write(ImageExample("nor this", 5, 5, "2").SerializeAsString());
    writer.Close();
  }
  const auto r = testing::RunSegtune("infer -m '" + (dir / "model").string() + "' --input '" +
                                     (dir / "bad.record").string() + "' --masks-dir '" + (dir / "masks").string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bad.record: record 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("segtune: error: infer: every input was skipped (2 unreadable item(s)"), std::string::npos)
      << r.output;
}

// Issue 18: eval --model skipped undecodable images silently and wrote metrics of 0 images with exit 0.
// Now it stops naming the record unless --skip-corrupt, and never writes metrics of nothing.
TEST(EvalCli, ModelEvalStopsAtAnUnreadableImageUnlessSkipCorrupt) {
  testing::TempDir dir;
  WriteTinyBundle(dir / "model");
  auto labeled = [](int seed, const std::string& id) {
    tensorflow::Example e = ImageExample(Jpeg(32, 32, seed), 32, 32, id);
    cv::Mat truth(32, 32, CV_8UC1, cv::Scalar(1));
    SetBytes(&e, "image/segmentation/class/encoded", EncodeGrayPng(truth.data, 32, 32));
    SetBytes(&e, "image/segmentation/class/format", "png");
    return e.SerializeAsString();
  };
  {
    TFRecordWriter writer(dir / "mixed.record");
    writer.Write(labeled(1, "1"));
    writer.Write(ImageExample("not a jpeg", 32, 32, "2").SerializeAsString());
    writer.Write(labeled(2, "3"));
    writer.Close();
    TFRecordWriter bad(dir / "bad.record");
    bad.Write(ImageExample("not a jpeg", 32, 32, "1").SerializeAsString());
    bad.Close();
  }
  auto eval = [&](const std::string& data, const std::string& out, const std::string& flags) {
    return testing::RunSegtune("eval --model '" + (dir / "model").string() + "' --data '" + (dir / data).string() +
                               "' -o '" + (dir / out).string() + "' " + flags);
  };
  const auto strict = eval("mixed.record", "strict.json", "");
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_NE(strict.output.find("segtune: error: mixed.record: record 1: image/encoded"), std::string::npos)
      << strict.output;
  EXPECT_NE(strict.output.find("rerun with --skip-corrupt"), std::string::npos) << strict.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "strict.json"));

  const auto skipping = eval("mixed.record", "skipping.json", "--skip-corrupt");
  ASSERT_EQ(skipping.exit_code, 0) << skipping.output;
  EXPECT_NE(skipping.output.find("skipped mixed.record: record 1"), std::string::npos) << skipping.output;
  EXPECT_NE(skipping.output.find("2 images"), std::string::npos) << skipping.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "skipping.json"));

  const auto nothing = eval("bad.record", "nothing.json", "--skip-corrupt");
  EXPECT_EQ(nothing.exit_code, 1) << nothing.output;
  EXPECT_NE(nothing.output.find("bad.record: no image could be evaluated (1 skipped as unreadable)"), std::string::npos)
      << nothing.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "nothing.json"));
}

}  // namespace
}  // namespace segtune
