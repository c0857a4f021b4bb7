// Detection training through segtune::Train: fasterrcnn_mobilenet_v3_large_320_fpn trained from scratch
// on a generated dataset (trainable BatchNorm2d, every backbone stage, as torchvision's builders) lowers
// its losses and reaches a box AP50 on held-out images far above the same evaluation of random boxes;
// checkpoints, metrics.csv and TensorBoard scalars per loss term; a resumed run repeats the uninterrupted
// run's losses.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <numeric>
#include <set>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/od_example.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/engine/trainer.h"
#include "segtune/engine/detection_eval.h"
#include "segtune/models/weights.h"
#include "test_util.h"

namespace segtune {
namespace {

std::string Png(const cv::Mat& m) {
  std::vector<uchar> png;
  cv::imencode(".png", m, png);
  return std::string(png.begin(), png.end());
}

// `count` size x size images on a lightly textured gray background, each with one or two objects:
// class 1 a red rectangle, class 2 a blue ellipse, 30-60% of the image wide.
void WriteShapes(const std::filesystem::path& path, int count, int size, uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&rng](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1)); };
  TFRecordWriter writer(path);
  for (int i = 0; i < count; ++i) {
    cv::Mat bgr(size, size, CV_8UC3);
    cv::randu(bgr, cv::Scalar(110, 110, 110), cv::Scalar(140, 140, 140));
    ObjectDetectionExample ex;
    const int objects = 1 + static_cast<int>(rng() % 2);
    for (int k = 0; k < objects; ++k) {
      const int cls = objects == 2 ? k + 1 : 1 + static_cast<int>(rng() % 2);
      const int w = uniform(size * 3 / 10, size * 6 / 10), h = uniform(size * 3 / 10, size * 6 / 10);
      const int half = size / 2;  // Two objects take the left and right halves.
      const int x_lo = objects == 2 ? k * half : 0, x_hi = objects == 2 ? (k + 1) * half : size;
      const int ww = std::min(w, x_hi - x_lo - 2);
      const int x = uniform(x_lo, x_hi - ww), y = uniform(0, size - h);
      if (cls == 1) {
        cv::rectangle(bgr, cv::Rect(x, y, ww, h), cv::Scalar(40, 40, 220), cv::FILLED);
      } else {
        cv::ellipse(bgr, cv::Point(x + ww / 2, y + h / 2), cv::Size(ww / 2, h / 2), 0, 0, 360, cv::Scalar(220, 80, 30),
                    cv::FILLED);
      }
      ex.boxes.push_back({static_cast<float>(y) / size, static_cast<float>(x) / size,
                          static_cast<float>(y + h) / size, static_cast<float>(x + ww) / size});
      ex.class_label.push_back(cls);
      ex.class_text.push_back(cls == 1 ? "box" : "ball");
      ex.is_crowd.push_back(0);
      ex.area.push_back(static_cast<float>(ww * h));
    }
    ex.encoded = Png(bgr);
    ex.format = "png";
    ex.filename = "img" + std::to_string(i) + ".png";
    ex.source_id = std::to_string(i);
    ex.height = ex.width = size;
    writer.Write(ToExample(ex).SerializeAsString());
  }
  writer.Close();
}

struct DetectionFixture {
  testing::TempDir dir;
  DetectionFixture(int train_images, int eval_images, int size) {
    WriteShapes(dir / "train.record", train_images, size, 1);
    if (eval_images > 0) WriteShapes(dir / "val.record", eval_images, size, 2);
    WriteFileAtomic(dir / "label_map.pbtxt", "item { id: 1 name: 'box' }\nitem { id: 2 name: 'ball' }\n");
  }
  // A detection config at `size` pixels; `extra` goes into train_config.
  std::filesystem::path Config(int size, int steps, bool eval, const std::string& extra = "") const {
    const std::string s = std::to_string(size);
    std::string text =
        "model { detection { architecture: 'fasterrcnn_mobilenet_v3_large_320_fpn' num_classes: 3\n"
        "  min_size: " + s + " max_size: " + s + " rpn_pre_nms_top_n_train: 200 rpn_post_nms_top_n_train: 100\n"
        "  box_batch_size_per_image: 32\n"
        // As TF's score_threshold 0.0 and COCO evaluation practice: keep low-scoring boxes for AP.
        "  box_score_thresh: 0.001\n"
        "} }\n"
        "train_config { batch_size: 2 num_steps: " + std::to_string(steps) + " seed: 3\n"
        // 0.001: at 0.002 box AP50 after 150 steps scattered from 0.07 to 0.39 over seeds (segtune and
        // torchvision alike); at 0.001 it is 0.14-0.30 over five seeds.
        "  optimizer { adam_optimizer { learning_rate { cosine_decay_learning_rate {\n"
        "    learning_rate_base: 0.001 total_steps: " + std::to_string(steps) +
        " warmup_learning_rate: 0.0001 warmup_steps: 10 } } weight_decay: 0.0001 } }\n"
        "  data_augmentation_options { random_horizontal_flip { } }\n"
        "  gradient_clipping_by_norm: 10.0 checkpoint_every_n_steps: 1000 log_every_n_steps: 1\n" + extra + "}\n"
        "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'train.record' } }\n";
    if (eval) {
      text += "eval_config { eval_every_n_steps: 0 metrics_set: 'coco_detection_metrics' }\n"
              "eval_input_reader { label_map_path: 'label_map.pbtxt' shuffle: false\n"
              "  tf_record_input_reader { input_path: 'val.record' } }\n";
    }
    const std::filesystem::path path = dir / ("pipeline-" + std::to_string(steps) + ".config");
    WriteFileAtomic(path, text);
    return path;
  }
};

double Mean(const std::vector<double>& v, size_t from, size_t to) {
  return std::accumulate(v.begin() + from, v.begin() + to, 0.0) / static_cast<double>(to - from);
}

// Scalar tags written to the event files under `dir`.
std::set<std::string> ScalarTags(const std::filesystem::path& dir) {
  std::set<std::string> tags;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    TFRecordReader reader(entry.path());
    std::string record;
    while (reader.Next(&record)) {
      tensorboard::Event event;
      event.ParseFromString(record);
      for (const auto& v : event.summary().value()) tags.insert(v.tag());
    }
  }
  return tags;
}

// Box AP50 of 10 random boxes per image (uniform corners, class and score) on `records`.
double ChanceAp50(const std::filesystem::path& records, int size) {
  DetectionDatasetOptions o;
  o.files = {records};
  o.num_classes = 3;
  o.train = false;
  const DetectionDataset data(o);
  DetectionEvalAccumulator accumulator(3, {}, /*masks=*/false);
  torch::manual_seed(5);
  for (size_t i = 0; i < data.size(); ++i) {
    detection::Detections d;
    const torch::Tensor corners = torch::rand({10, 2, 2}) * size;  // Two random points per box.
    d.boxes = torch::cat({std::get<0>(corners.min(1)), std::get<0>(corners.max(1))}, 1);
    d.scores = torch::rand({10});
    d.labels = torch::randint(1, 3, {10}, torch::kInt64);
    accumulator.Add(data.LoadSample(static_cast<int64_t>(i)), d);
  }
  return accumulator.Evaluate(1).box.stats[1];
}

// Mean of loss term `t` over steps [from, to).
double TermMean(const TrainResult& r, size_t t, size_t from, size_t to) {
  double sum = 0;
  for (size_t s = from; s < to; ++s) sum += r.loss_terms[s][t];
  return sum / static_cast<double>(to - from);
}

// Measured (Release, 2 threads, load average 2-4 on 2 cores): ~36-48 s; with seeds 3/4/5/6/7 box AP50
// 0.229/0.267/0.264/0.138/0.295 against chance 0.009. torchvision's loop (Python, same config) scatters
// alike: fed this run's initial weights, batches, flips and per-step seeds 0.259; with its own weights and
// data order 0.397/0.085/0.138 for seeds 3/4/5.
TEST(DetectionTraining, MobileNet320LossesFallAndBoxAp50BeatsChance) {
  const int size = 96, steps = 150;
  DetectionFixture f(60, 12, size);
  TrainOptions o;
  o.pipeline_config = f.Config(size, steps, /*eval=*/true);
  o.train_dir = f.dir / "run";
  o.threads = 2;
  const auto start = std::chrono::steady_clock::now();
  const TrainResult r = Train(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.losses.size(), static_cast<size_t>(steps));
  ASSERT_EQ(r.loss_terms.front().size(), 4u);
  const double first = Mean(r.losses, 0, 10), last = Mean(r.losses, steps - 10, steps);
  ASSERT_TRUE(r.evaluated);
  const double ap50 = r.eval_metrics.at("box_AP50");
  std::printf("detection training: %d steps in %.1f s; loss %.3f -> %.3f; box AP %.3f AP50 %.3f\n", steps, seconds,
              first, last, r.eval_metrics.at("box_AP"), ap50);
  for (size_t t = 0; t < 4; ++t) {
    std::printf(" term %zu: %.3f -> %.3f", t, TermMean(r, t, 0, 10), TermMean(r, t, steps - 10, steps));
  }
  std::printf("\n");
  EXPECT_LT(last, 0.9 * first);
  const size_t end = static_cast<size_t>(steps);
  // RPN objectness: from chance (ln 2) to a confident anchor classifier.
  EXPECT_LT(TermMean(r, 0, end - 10, end), 0.2 * TermMean(r, 0, 0, 10));
  // RPN box regression starts near 0 (few anchors match before the RPN learns), peaks, then falls:
  // compared with its worst 10-step window.
  double rpn_box_peak = 0;
  for (size_t s = 0; s + 10 <= end; s += 10) rpn_box_peak = std::max(rpn_box_peak, TermMean(r, 1, s, s + 10));
  EXPECT_LT(TermMean(r, 1, end - 10, end), 0.5 * rpn_box_peak);
  EXPECT_LT(TermMean(r, 2, end - 10, end), TermMean(r, 2, 0, 10)) << "loss_classifier";
  // loss_box_reg is not asserted to fall: it sums over the positive RoIs but divides by every sampled
  // RoI (torchvision's fastrcnn_loss), so it grows as the RPN learns to propose boxes on the objects.
  // Chance: the same evaluation of 10 random boxes (random class and score) per held-out image.
  const double chance = ChanceAp50(f.dir / "val.record", size);
  std::printf("chance AP50 %.4f\n", chance);
  EXPECT_GT(ap50, 10 * chance);
  EXPECT_GT(testing::ReportMeasuredFloor("detection acceptance box AP50", ap50, 0.1), 0.1);

  // Outputs: a checkpoint with the detection metadata, best.safetensors, per-term scalars.
  const auto checkpoints = ListStepCheckpoints(o.train_dir);
  ASSERT_FALSE(checkpoints.empty());
  EXPECT_TRUE(std::filesystem::exists(o.train_dir / "best.safetensors"));
  const std::set<std::string> train_tags = ScalarTags(o.train_dir / "train");
  for (const char* tag : {"train/loss", "train/loss_objectness", "train/loss_rpn_box_reg", "train/loss_classifier",
                          "train/loss_box_reg", "train/learning_rate", "train/images_per_second"}) {
    EXPECT_EQ(train_tags.count(tag), 1u) << tag;
  }
  const std::set<std::string> eval_tags = ScalarTags(o.train_dir / "eval");
  EXPECT_EQ(eval_tags.count("eval/box_AP50"), 1u);
  EXPECT_EQ(eval_tags.count("eval/box_AP/ball"), 1u);
  const std::string csv = ReadFile(o.train_dir / "metrics.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "step,loss,loss_objectness,loss_rpn_box_reg,loss_classifier,loss_box_reg,learning_rate,images_per_second,"
            "eval_box_ap,eval_box_ap50,data_wait_share,segment");
}

TEST(DetectionTraining, ResumedRunRepeatsTheUninterruptedLosses) {
  const int size = 96, steps = 4;
  DetectionFixture f(8, 0, size);
  TrainOptions whole;
  whole.pipeline_config = f.Config(size, steps, /*eval=*/false);
  whole.train_dir = f.dir / "whole";
  whole.threads = 2;
  const TrainResult reference = Train(whole);

  TrainOptions split = whole;
  split.train_dir = f.dir / "split";
  split.stop_after_step = 2;
  const TrainResult first = Train(split);
  EXPECT_TRUE(first.interrupted);
  split.stop_after_step = 0;
  split.resume = true;
  const TrainResult second = Train(split);
  EXPECT_EQ(second.first_step, 2);
  std::vector<double> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  ASSERT_EQ(joined.size(), reference.losses.size());
  for (size_t i = 0; i < joined.size(); ++i) EXPECT_EQ(joined[i], reference.losses[i]) << "step " << i + 1;

  // The checkpoint layout is the semantic one: segtune checkpoint with architecture, config text, step.
  const auto checkpoints = ListStepCheckpoints(split.train_dir);
  ASSERT_FALSE(checkpoints.empty());
  const NamedTensors ckpt = LoadWeights(checkpoints.back());
  EXPECT_TRUE(IsSegtuneCheckpoint(ckpt));
  EXPECT_EQ(ckpt.metadata.at("segtune.architecture"), "fasterrcnn_mobilenet_v3_large_320_fpn");
  EXPECT_EQ(ckpt.metadata.at("segtune.step"), "4");
  EXPECT_EQ(ckpt.metadata.at("segtune.pipeline_config"), ReadFile(whole.pipeline_config));
  EXPECT_NE(ckpt.Find("roi_heads.box_predictor.cls_score.weight"), nullptr);
}

}  // namespace
}  // namespace segtune
