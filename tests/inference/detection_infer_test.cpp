// `segtune infer` with a detection bundle: the exact infer_detections keys (+ mask PNGs) in the
// output records against the model's own detections, COCO results, overlays, instance-index PNGs
// (--masks-dir), skipped corrupt input, the same output on several workers, and `segtune eval` of the
// output agreeing with `segtune coco-eval` of the COCO results.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "export/detection_fixture.h"
#include "segtune/formats/coco.h"
#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/rle.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/inference/inference.h"
#include "test_util.h"

namespace segtune {
namespace {

const std::string kModel = "maskrcnn_resnet50_fpn";

std::string Jpeg(int h, int w, int seed) {
  cv::Mat image(h, w, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::rectangle(image, {w / 4, h / 4, w / 2, h / 2}, cv::Scalar(30 * seed, 220, 40), cv::FILLED);
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

// The model's detections for an encoded image, computed here from the decoded pixels.
detection::Detections Reference(detection::GeneralizedRCNNImpl& model, const std::string& jpeg) {
  cv::Mat bgr = cv::imdecode(cv::Mat(1, static_cast<int>(jpeg.size()), CV_8U, const_cast<char*>(jpeg.data())),
                             cv::IMREAD_COLOR);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  torch::Tensor x = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).permute({2, 0, 1});
  torch::NoGradGuard no_grad;
  return model.forward({x.to(torch::kFloat) / 255.0f}).detections[0];
}

struct Fixture {
  testing::TempDir dir;
  detection::GeneralizedRCNN model{nullptr};
  std::vector<std::string> jpegs;
  std::vector<std::pair<int, int>> sizes = {{90, 120}, {90, 120}, {110, 80}};  // The first two share a pass.
};

// Input records "11", "12", "13" whose ground truth are the model's own top-3 detections (so AP is
// neither 0 nor trivially 1), then a corrupt image.
void WriteInputs(Fixture& f) {
  TFRecordWriter writer(f.dir / "in.record");
  for (size_t i = 0; i < f.sizes.size(); ++i) {
    const auto [h, w] = f.sizes[i];
    f.jpegs.push_back(Jpeg(h, w, static_cast<int>(i) + 1));
    const detection::Detections d = Reference(*f.model, f.jpegs.back());
    ObjectDetectionExample od;
    od.encoded = f.jpegs.back();
    od.format = "jpeg";
    od.filename = "img" + std::to_string(i) + ".jpg";
    od.source_id = std::to_string(11 + i);
    od.height = h;
    od.width = w;
    for (int64_t k = 0; k < std::min<int64_t>(3, d.boxes.size(0)); ++k) {
      const auto b = d.boxes[k];
      od.boxes.push_back({b[1].item<float>() / h, b[0].item<float>() / w, b[3].item<float>() / h, b[2].item<float>() / w});
      od.class_label.push_back(d.labels[k].item<int64_t>());
      od.is_crowd.push_back(0);
    }
    writer.Write(ToExample(od).SerializeAsString());
  }
  tensorflow::Example corrupt;
  SetBytes(&corrupt, "image/encoded", "not an image");
  SetBytes(&corrupt, "image/source_id", "14");
  writer.Write(corrupt.SerializeAsString());
  writer.Close();
}

class DetectionInfer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    f_ = new Fixture;
    const detection::DetectionModelOptions options = testing::SmallDetectionOptions(kModel, 96, 128);
    f_->model = testing::SmallDetectionModel(kModel, options);
    testing::ExportSmallDetectionModel(f_->model, kModel, options, f_->dir.path());
    WriteInputs(*f_);
    InferenceOptions request;
    request.model = f_->dir / "export";
    request.inputs = {(f_->dir / "in.record").string()};
    request.output = f_->dir / "out.record";
    request.coco_results = f_->dir / "results.json";
    request.overlays_dir = f_->dir / "overlays";
    request.batch_size = 2;
    summary_ = new InferenceSummary(RunInference(request));  // Dispatches on the bundle's kind.
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete f_;
  }
  static Fixture* f_;
  static InferenceSummary* summary_;
};
Fixture* DetectionInfer::f_ = nullptr;
InferenceSummary* DetectionInfer::summary_ = nullptr;

std::vector<tensorflow::Example> ReadRecords(const std::filesystem::path& path) {
  std::vector<tensorflow::Example> out;
  TFRecordReader reader(path);
  std::string record;
  while (reader.Next(&record)) out.push_back(ParseExample(record, path.string()));
  return out;
}

TEST_F(DetectionInfer, SkipsTheCorruptImageAndListsIt) {
  EXPECT_EQ(summary_->images, 3);
  EXPECT_EQ(summary_->skipped, 1);
  ASSERT_EQ(summary_->problems.size(), 1u);
  EXPECT_NE(summary_->problems[0].find("record 3"), std::string::npos) << summary_->problems[0];
}

TEST_F(DetectionInfer, RecordsHoldExactlyTheDetectionKeysOfTheModel) {
  const auto out = ReadRecords(f_->dir / "out.record");
  ASSERT_EQ(out.size(), 3u);
  const std::set<std::string> added = {"image/detection/bbox/ymin", "image/detection/bbox/xmin",
                                       "image/detection/bbox/ymax", "image/detection/bbox/xmax",
                                       "image/detection/score",     "image/detection/label",
                                       "image/detection/mask"};
  const auto in = ReadRecords(f_->dir / "in.record");
  double worst_box = 0, worst_score = 0;  // Normalized coordinates; probabilities.
  int64_t worst_mask_pixels = 0;          // Pixels of one pasted mask (masks here have 300-2000).
  for (size_t i = 0; i < out.size(); ++i) {
    std::set<std::string> keys, expected = added;
    for (const auto& [key, value] : out[i].features().feature()) keys.insert(key);
    for (const auto& [key, value] : in[i].features().feature()) expected.insert(key);
    EXPECT_EQ(keys, expected);

    const auto [h, w] = f_->sizes[i];
    const detection::Detections ref = Reference(*f_->model, f_->jpegs[i]);
    const std::string src = "out " + std::to_string(i);
    const auto ymin = GetFloatList(out[i], "image/detection/bbox/ymin", src);
    const auto xmin = GetFloatList(out[i], "image/detection/bbox/xmin", src);
    const auto ymax = GetFloatList(out[i], "image/detection/bbox/ymax", src);
    const auto xmax = GetFloatList(out[i], "image/detection/bbox/xmax", src);
    const auto score = GetFloatList(out[i], "image/detection/score", src);
    const auto label = GetInt64List(out[i], "image/detection/label", src);
    const auto masks = GetBytesList(out[i], "image/detection/mask", src);
    const size_t n = static_cast<size_t>(ref.boxes.size(0));
    ASSERT_GT(n, 0u);
    ASSERT_EQ(score.size(), n);
    ASSERT_EQ(ymin.size(), n);
    ASSERT_EQ(label.size(), n);
    ASSERT_EQ(masks.size(), n);
    for (size_t k = 0; k < n; ++k) {
      const auto b = ref.boxes[static_cast<int64_t>(k)];
      worst_box = std::max({worst_box, std::abs(xmin[k] - b[0].item<double>() / w),
                            std::abs(ymin[k] - b[1].item<double>() / h), std::abs(xmax[k] - b[2].item<double>() / w),
                            std::abs(ymax[k] - b[3].item<double>() / h)});
      EXPECT_GE(xmin[k], 0.0f);
      EXPECT_LE(xmax[k], 1.0f);
      worst_score = std::max(worst_score, std::abs(score[k] - ref.scores[static_cast<int64_t>(k)].item<double>()));
      EXPECT_EQ(label[k], ref.labels[static_cast<int64_t>(k)].item<int64_t>());
      std::vector<uint8_t> pixels;
      int mh = 0, mw = 0;
      DecodeGray(masks[k], "test", "mask", &pixels, &mh, &mw);
      EXPECT_EQ(mh, h);
      EXPECT_EQ(mw, w);
      int64_t ones = 0;
      for (uint8_t p : pixels) {
        ASSERT_LE(p, 1);
        ones += p;
      }
      const int64_t ref_ones = ref.masks[static_cast<int64_t>(k)].gt(0.5).sum().item<int64_t>();
      worst_mask_pixels = std::max(worst_mask_pixels, std::abs(ones - ref_ones));
    }
  }
  // infer's path (the exported bundle, images batched by size) rounds differently from the eager model.
  // Worst measured across DNNL_MAX_CPU_ISA / ATEN_CPU_CAPABILITY settings (docs/testing.md): boxes 1.5e-5
  // (SSE41), scores 2.0e-5 (AVX with ATen default), mask pixels 0. Bounds: 1e-4 (~0.01 px here), 1e-4,
  // and 4 pixels (a probability within rounding of 0.5 may flip; a misplaced mask moves hundreds).
  EXPECT_LT(testing::ReportMeasured("detection infer boxes normalized", worst_box, 1e-4), 1e-4);
  EXPECT_LT(testing::ReportMeasured("detection infer scores", worst_score, 1e-4), 1e-4);
  EXPECT_LE(testing::ReportMeasured("detection infer mask pixels", double(worst_mask_pixels), 4), 4);
}

TEST_F(DetectionInfer, CocoResultsCarryBoxesRleMasksAndNumericImageIds) {
  const nlohmann::json results = nlohmann::json::parse(ReadFile(f_->dir / "results.json"));
  ASSERT_TRUE(results.is_array());
  ASSERT_EQ(static_cast<int64_t>(results.size()), summary_->regions);
  std::set<int64_t> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r["image_id"].is_number_integer()) << r.dump();
    ids.insert(r["image_id"].get<int64_t>());
    EXPECT_GE(r["category_id"].get<int64_t>(), 1);
    EXPECT_LE(r["category_id"].get<int64_t>(), 2);
    ASSERT_EQ(r["bbox"].size(), 4u);
    const auto size = r["segmentation"]["size"];
    const Rle rle = RleFromString(r["segmentation"]["counts"].get<std::string>(), size[0].get<uint32_t>(),
                                  size[1].get<uint32_t>());
    // The mask lies inside its box, up to the 1/28 per side by which the mask paste enlarges it.
    const auto box = RleToBbox(rle);
    const double x = r["bbox"][0].get<double>(), w = r["bbox"][2].get<double>();
    if (RleArea(rle) > 0) {
      EXPECT_GE(box[0], x - w / 28.0 - 1.0);
      EXPECT_LE(box[0] + box[2], x + w + w / 28.0 + 1.0);
    }
  }
  EXPECT_EQ(ids, (std::set<int64_t>{11, 12, 13}));
  const auto loaded = LoadCocoResults(f_->dir / "results.json");  // Valid for the COCO reader too.
  EXPECT_EQ(loaded.size(), results.size());
}

TEST_F(DetectionInfer, OverlaysHaveTheImageSize) {
  for (size_t i = 0; i < f_->sizes.size(); ++i) {
    const auto path = f_->dir / "overlays" / ("img" + std::to_string(i) + ".jpg");
    const cv::Mat overlay = cv::imread(path.string());
    ASSERT_FALSE(overlay.empty()) << path;
    EXPECT_EQ(overlay.rows, f_->sizes[i].first);
    EXPECT_EQ(overlay.cols, f_->sizes[i].second);
  }
}

std::map<std::string, std::string> FeatureBytes(const tensorflow::Example& example) {
  std::map<std::string, std::string> bytes;
  for (const auto& [key, feature] : example.features().feature()) bytes[key] = feature.SerializeAsString();
  return bytes;
}

// Issue 19: --masks-dir was ignored for detection models (a warning). For Mask R-CNN it now holds one
// instance-index PNG per image: pixel k = the k-th detection of the image's record and COCO results
// (the first, highest-score one on top where masks overlap), 0 = none. Run on two workers here, so the
// records must also equal the one-worker run's byte for byte.
TEST_F(DetectionInfer, MasksDirHoldsInstanceIndexPngsOfTheRecordsMasksOnTwoWorkers) {
  InferenceOptions request;
  request.model = f_->dir / "export";
  request.inputs = {(f_->dir / "in.record").string()};
  request.output = f_->dir / "out_two_workers.record";
  request.masks_dir = f_->dir / "instance_masks";
  request.coco_results = f_->dir / "results_two_workers.json";
  request.batch_size = 2;
  request.threads = 2;
  const InferenceSummary summary = RunInference(request);
  EXPECT_EQ(summary.images, 3);
  EXPECT_EQ(ReadFile(request.coco_results), ReadFile(f_->dir / "results.json"));
  const auto out = ReadRecords(f_->dir / "out.record");
  const auto two_workers = ReadRecords(request.output);
  ASSERT_EQ(two_workers.size(), out.size());
  for (size_t i = 0; i < out.size(); ++i) {  // Key by key: protobuf maps serialize in no fixed order.
    EXPECT_EQ(FeatureBytes(two_workers[i]), FeatureBytes(out[i])) << "record " << i;
  }

  const nlohmann::json coco = nlohmann::json::parse(ReadFile(f_->dir / "results.json"));
  size_t next_result = 0;  // COCO results list the images' detections in input order.
  int overlapped = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const auto [h, w] = f_->sizes[i];
    const cv::Mat index = cv::imread((request.masks_dir / ("img" + std::to_string(i) + ".png")).string(),
                                     cv::IMREAD_UNCHANGED);
    ASSERT_EQ(index.type(), CV_8UC1);  // At most 20 detections: 8-bit.
    ASSERT_EQ(index.size(), cv::Size(w, h));
    const auto masks = GetBytesList(out[i], "image/detection/mask", "out");
    const auto labels = GetInt64List(out[i], "image/detection/label", "out");
    cv::Mat expected = cv::Mat::zeros(h, w, CV_8UC1), covered = cv::Mat::zeros(h, w, CV_8UC1);
    for (size_t k = 0; k < masks.size(); ++k, ++next_result) {
      std::vector<uint8_t> pixels;
      int mh = 0, mw = 0;
      DecodeGray(masks[k], "out", "mask", &pixels, &mh, &mw);
      const cv::Mat mask(mh, mw, CV_8UC1, pixels.data());
      // The same detection in the COCO results: same class, same mask.
      const nlohmann::json& result = coco.at(next_result);
      EXPECT_EQ(result["image_id"].get<int64_t>(), 11 + static_cast<int64_t>(i));
      EXPECT_EQ(result["category_id"].get<int64_t>(), labels[k]);
      cv::Mat from_coco(h, w, CV_8UC1);
      RleDecode(RleFromString(result["segmentation"]["counts"].get<std::string>(), h, w), from_coco.data);
      EXPECT_EQ(cv::countNonZero(from_coco != mask), 0) << "image " << i << " detection " << k;
      // Pixels of this mask no earlier detection claimed show k + 1.
      overlapped += cv::countNonZero(mask & covered);
      expected.setTo(cv::Scalar(static_cast<double>(k + 1)), mask & (covered == 0));
      covered |= mask;
    }
    EXPECT_EQ(cv::countNonZero(index != expected), 0) << "image " << i;
    double top = 0;
    cv::minMaxLoc(index, nullptr, &top);
    EXPECT_GE(top, 2) << "image " << i << ": expected several detections to show";
  }
  EXPECT_EQ(next_result, coco.size());
  EXPECT_GT(overlapped, 0);  // The overlap rule was exercised.
}

// A box-only model has no masks to write: --masks-dir is a usage error before anything is read or
// written (it was a warning, and the run went on without the masks the user asked for).
TEST(DetectionInferCli, MasksDirWithABoxOnlyModelIsAUsageError) {
  testing::TempDir dir;
  const std::string name = "fasterrcnn_mobilenet_v3_large_320_fpn";
  const detection::DetectionModelOptions options = testing::SmallDetectionOptions(name);
  detection::GeneralizedRCNN model = testing::SmallDetectionModel(name, options);
  testing::ExportSmallDetectionModel(model, name, options, dir.path());
  WriteFileAtomic(dir / "a.jpg", Jpeg(40, 48, 1));
  const auto r = testing::RunSegtune("infer -m '" + (dir / "export").string() + "' --input '" +
                                     (dir / "a.jpg").string() + "' --masks-dir '" + (dir / "masks").string() +
                                     "' -o '" + (dir / "out.record").string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("segtune: error: infer: --masks-dir writes instance masks, but " + (dir / "export").string() +
                          " is a fasterrcnn_mobilenet_v3_large_320_fpn model, which predicts boxes only"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "masks"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out.record"));
}

// The 12 bbox numbers of `segtune eval` over the output records equal those of `segtune coco-eval`
// over the COCO results and a ground-truth JSON written here from the input records.
TEST_F(DetectionInfer, EvalOfRecordsAgreesWithCocoEvalOfResults) {
  nlohmann::json gt = {{"images", nlohmann::json::array()},
                       {"annotations", nlohmann::json::array()},
                       {"categories", {{{"id", 1}, {"name", "cat"}}, {{"id", 2}, {"name", "dog"}}}}};
  int64_t ann_id = 1;
  const auto in = ReadRecords(f_->dir / "in.record");
  for (size_t i = 0; i < f_->sizes.size(); ++i) {
    const ObjectDetectionExample od = ParseObjectDetectionExample(in[i], "in");
    const int64_t id = std::stoll(od.source_id);
    gt["images"].push_back({{"id", id}, {"height", od.height}, {"width", od.width}, {"file_name", od.filename}});
    for (size_t k = 0; k < od.num_objects(); ++k) {
      const auto& b = od.boxes[k];
      const double x = double{b.xmin} * od.width, y = double{b.ymin} * od.height;
      const double bw = double{b.xmax} * od.width - x, bh = double{b.ymax} * od.height - y;
      gt["annotations"].push_back({{"id", ann_id++}, {"image_id", id}, {"category_id", od.class_label[k]},
                                   {"bbox", {x, y, bw, bh}}, {"area", bw * bh}, {"iscrowd", 0}});
    }
  }
  WriteFileAtomic(f_->dir / "gt.json", gt.dump());
  const auto coco = testing::RunSegtune("coco-eval --gt '" + (f_->dir / "gt.json").string() + "' --dt '" +
                                        (f_->dir / "results.json").string() + "' --type bbox -o '" +
                                        (f_->dir / "coco_metrics.json").string() + "'");
  ASSERT_EQ(coco.exit_code, 0) << coco.output;
  const auto eval = testing::RunSegtune("eval --predictions '" + (f_->dir / "out.record").string() +
                                        "' --groundtruth '" + (f_->dir / "in.record").string() + "' -o '" +
                                        (f_->dir / "metrics.json").string() + "'");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const auto a = nlohmann::json::parse(ReadFile(f_->dir / "coco_metrics.json"));
  const auto b = nlohmann::json::parse(ReadFile(f_->dir / "metrics.json"));
  const auto& coco_stats = a.contains("stats_list") ? a["stats_list"] : a["bbox"]["stats_list"];
  ASSERT_EQ(coco_stats.size(), 12u) << a.dump();
  for (size_t s = 0; s < 12; ++s) {
    EXPECT_NEAR(b["bbox"]["stats_list"][s].get<double>(), coco_stats[s].get<double>(), 1e-6) << "stat " << s;
  }
  EXPECT_GT(b["bbox"]["stats_list"][1].get<double>(), 0.0);  // The top detections are ground truth.
  EXPECT_FALSE(b.contains("segm"));  // The ground truth has no masks.
}

// `segtune eval --model DIR --data RECORDS` runs the bundle and scores it: the same numbers as
// evaluating the records `segtune infer` wrote.
// eval --model stops at the corrupt record (metrics of 3 of 4 images must be asked for); with
// --skip-corrupt it agrees with eval of infer's records, which skipped it too.
TEST_F(DetectionInfer, EvalOfTheModelAgreesWithEvalOfItsPredictions) {
  const std::string args = "eval --model '" + (f_->dir / "export").string() + "' --data '" +
                           (f_->dir / "in.record").string() + "' -o '" + (f_->dir / "model_metrics.json").string() + "'";
  const auto strict = testing::RunSegtune(args);
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_NE(strict.output.find("segtune: error: in.record: record 3: image/encoded"), std::string::npos) << strict.output;
  EXPECT_NE(strict.output.find("rerun with --skip-corrupt"), std::string::npos) << strict.output;
  EXPECT_FALSE(std::filesystem::exists(f_->dir / "model_metrics.json"));
  const auto by_model = testing::RunSegtune(args + " --skip-corrupt");
  ASSERT_EQ(by_model.exit_code, 0) << by_model.output;
  const auto by_records = testing::RunSegtune("eval --predictions '" + (f_->dir / "out.record").string() + "' -o '" +
                                              (f_->dir / "records_metrics.json").string() + "'");
  ASSERT_EQ(by_records.exit_code, 0) << by_records.output;
  const auto a = nlohmann::json::parse(ReadFile(f_->dir / "model_metrics.json"));
  const auto b = nlohmann::json::parse(ReadFile(f_->dir / "records_metrics.json"));
  EXPECT_EQ(a["images"], 3);  // The corrupt record is skipped.
  for (size_t s = 0; s < 12; ++s) {
    EXPECT_NEAR(a["bbox"]["stats_list"][s].get<double>(), b["bbox"]["stats_list"][s].get<double>(), 1e-9) << s;
  }
}

}  // namespace
}  // namespace segtune
